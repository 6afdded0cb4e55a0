"""recon: payment reconciliation between our payment events and the bank's statements.

The package is the domain layer: settings, sources, parsers, the landing zone, the
warehouse loaders, the close-pack writer and the CLI. Dagster wiring lives in the
top-level ``assets/`` and ``sensors/`` packages and is merged in ``definitions.py``.
"""
