"""The finance portal: close packs, exceptions side by side and search, read-only, behind a password.

``app`` wires the Starlette routes; ``auth`` checks HTTP Basic against argon2 hashes;
``reader`` and ``snapshot`` decide where reads come from (a published read-only DuckDB
snapshot, or the Postgres warehouse) — DuckDB has one writer process, and the portal must
keep answering during a build without ever blocking it; ``queries`` and ``search`` are the
pages' SQL; ``access_log`` puts downloads and searches in the audit trail; ``server`` runs it.
"""
