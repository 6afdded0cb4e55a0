"""Every table dbt reads as a source, for the callers that read across raw and ops.

The input gate, a cycle build's fingerprint, the operators' commands and the holds read the
raw inputs and the operators' decisions together; each creates what is missing through here.
"""
from __future__ import annotations

from recon_pipeline.warehouse.connection import Warehouse
from recon_pipeline.warehouse.ops_schema import ensure_ops_schema
from recon_pipeline.warehouse.raw_schema import ensure_raw_schema


def ensure_source_tables(wh: Warehouse) -> None:
    """Raw and quarantine tables, the operators' ops tables and the audit log (idempotent)."""
    ensure_raw_schema(wh)
    ensure_ops_schema(wh)
