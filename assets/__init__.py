"""Thin Dagster wiring: ingestion assets, the per-cycle dbt assets, checks and report assets."""
