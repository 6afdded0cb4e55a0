"""Fingerprints of what each pay-cycle build saw, so unchanged cycles need no rebuild.

A cycle's result is a function of: the raw rows visible to it (bank lines booked up to it,
events before its end, statements, quarantine), the operator decisions in force, the dbt
project's code and seeds, and the settings that shape cycles. The fingerprint hashes
exactly those; when it matches the last build's, a rebuild would give the same rows.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from recon_pipeline.audit.pipeline_actions import audit_cycle_built
from recon_pipeline.cycles import dbt_vars_for_cycle
from recon_pipeline.dbt_setup import DBT_PROJECT_DIR
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.warehouse.source_tables import ensure_source_tables

_CODE_HASH: str | None = None


def _code_hash() -> str:
    """Hash of the dbt project and the Python that shapes a cycle (any change forces rebuilds)."""
    global _CODE_HASH
    if _CODE_HASH is None:
        digest = hashlib.sha256()
        roots = [DBT_PROJECT_DIR / d for d in ("models", "macros", "seeds", "tests")]
        roots += [DBT_PROJECT_DIR / "dbt_project.yml", Path(__file__).resolve().parents[1] / "reports",
                  Path(__file__).resolve().parents[1] / "quality", DBT_PROJECT_DIR.parent / "expectations"]
        for root in roots:
            files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
            for path in files:
                if "__pycache__" in path.parts:
                    continue
                digest.update(str(path.relative_to(DBT_PROJECT_DIR.parent)).encode())
                digest.update(path.read_bytes())
        _CODE_HASH = digest.hexdigest()
    return _CODE_HASH


def cycle_fingerprint(settings: Settings, cycle: str) -> str:
    day = dt.date.fromisoformat(cycle)
    end = dbt_vars_for_cycle(cycle, settings)["cycle_end_utc"]
    queries = [
        ("select count(*), sum(amount), max(bank_line_id), min(bank_line_id) from raw.statement_lines "
         "where booking_date <= ?", (day,)),
        ("select count(*), max(statement_key) from raw.statements "
         "where coalesce(closing_date, opening_date) is null or coalesce(closing_date, opening_date) <= ?", (day,)),
        ("select count(*), max(message_key), min(message_key) from raw.payment_events "
         "where occurred_at < cast(? as timestamp)", (end,)),
        ("select count(*) from raw.quarantine_statement_files", ()),
        ("select count(*) from raw.quarantine_events", ()),
        ("select count(*), max(resolution_id) from ops.exception_resolutions where effective_cycle <= ?", (day,)),
        ("select count(*), max(manual_match_id) from ops.manual_matches where effective_cycle <= ?", (day,)),
        ("select count(*), max(undo_id) from ops.manual_match_undos", ()),
        ("select count(*), max(hold_id) from ops.held_items", ()),
        ("select count(*), max(release_id) from ops.item_releases", ()),
        ("select count(*) from raw.quarantine_statement_lines", ()),
    ]
    digest = hashlib.sha256()
    digest.update(_code_hash().encode())
    digest.update(repr(sorted(dbt_vars_for_cycle(cycle, settings).items())).encode())
    with open_warehouse(settings) as wh:
        ensure_source_tables(wh)
        for sql, params in queries:
            digest.update(repr(wh.fetchone(sql, params)).encode())
    return digest.hexdigest()


def _ensure(wh) -> None:
    wh.execute("create table if not exists ops.cycle_builds (pay_cycle date primary key, "
               "fingerprint varchar not null, built_at timestamp not null)")


def last_fingerprint(settings: Settings, cycle: str) -> str | None:
    with open_warehouse(settings) as wh:
        ensure_source_tables(wh)
        _ensure(wh)
        row = wh.fetchone("select fingerprint from ops.cycle_builds where pay_cycle = ?",
                          (dt.date.fromisoformat(cycle),))
    return row[0] if row else None


def record_build(settings: Settings, cycle: str, fingerprint: str, run_id: str | None = None,
                 how: str = "full") -> None:
    """Remember what the build saw, and put the build in the audit trail with its run id."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with open_warehouse(settings) as wh:
        _ensure(wh)
        with wh.transaction():
            wh.execute("delete from ops.cycle_builds where pay_cycle = ?", (dt.date.fromisoformat(cycle),))
            wh.execute("insert into ops.cycle_builds (pay_cycle, fingerprint, built_at) values (?, ?, ?)",
                       (dt.date.fromisoformat(cycle), fingerprint, now))
            audit_cycle_built(wh, cycle, run_id or "", fingerprint, how)
