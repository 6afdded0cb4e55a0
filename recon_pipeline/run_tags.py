"""Moved to ``orchestration.run_tags``; kept only until sensors/ and assets/ingestion.py import it from there."""
from orchestration.run_tags import TRIGGER_TAG, resolution_tags, trigger_tags  # noqa: F401
