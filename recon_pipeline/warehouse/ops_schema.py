"""DDL of the operator tables: append-only decisions that dbt reads beside the raw inputs.

``ops.*`` holds what people decided (resolutions, manual matches and their undos) and what the
input gate held back or an operator released, plus the hash-chained audit log. Rows are only
ever added: a decision is changed by a later decision, never by an edit.
"""
from __future__ import annotations

from recon_pipeline.audit.log import ensure_audit_table
from recon_pipeline.warehouse.connection import Warehouse
from recon_pipeline.warehouse.raw_schema import MONEY, create_tables

OPS_TABLES = {
    "ops.exception_resolutions": f"""
        resolution_id varchar primary key,
        exception_id varchar not null,
        action varchar not null,
        reason varchar not null,
        resolved_by varchar not null,
        resolved_at timestamp not null,
        effective_cycle date not null,
        adjustment_amount {MONEY},
        adjustment_account varchar
    """,
    "ops.held_items": """
        hold_id varchar primary key,
        item_kind varchar not null,
        item_key varchar not null,
        pay_cycle date not null,
        check_name varchar not null,
        reason varchar not null,
        held_at timestamp not null
    """,
    "ops.item_releases": """
        release_id varchar primary key,
        item_kind varchar not null,
        item_key varchar not null,
        action varchar not null,
        reason varchar not null,
        released_by varchar not null,
        released_at timestamp not null
    """,
    "ops.manual_matches": """
        manual_match_id varchar primary key,
        payment_id varchar not null,
        bank_line_id varchar not null,
        reason varchar not null,
        matched_by varchar not null,
        matched_at timestamp not null,
        effective_cycle date not null
    """,
    "ops.manual_match_undos": """
        undo_id varchar primary key,
        manual_match_id varchar not null,
        reason varchar not null,
        undone_by varchar not null,
        undone_at timestamp not null,
        effective_cycle date not null
    """,
}


def ensure_ops_schema(wh: Warehouse) -> None:
    """Create the operator tables and the audit log if they are missing (idempotent)."""
    create_tables(wh, "ops", OPS_TABLES)
    ensure_audit_table(wh)
