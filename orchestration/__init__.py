"""The Dagster side of recon: definitions, partitions, resources, jobs, the instance, and the
in-process runner and command line that drive them.

``recon_pipeline`` (the domain) never imports this package or Dagster
(tests/unit/test_layers.py); this package imports the domain and wires it into Dagster, next
to ``assets/`` and ``sensors/``, which hold the asset and sensor definitions themselves.
"""
