"""Moved to ``orchestration.instance``; kept only until sensors/ and assets/ingestion.py import it from there."""
from orchestration.instance import CYCLES_POOL, INGESTION_POOL, instance_yaml, prepare_instance  # noqa: F401
