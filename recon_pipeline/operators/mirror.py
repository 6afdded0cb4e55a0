"""Operator decisions mirrored outside the warehouse, so a rebuild from scratch keeps them.

The warehouse is derived data: everything in it can be rebuilt from the landing zone —
except what people decided. Each decision is therefore also written, append-only and
atomically, as one JSON file under ``landing/decisions/<table>/<id>.json``, and every
``recon run`` puts back any decision the warehouse does not hold (a new or restored warehouse).
Restoring is idempotent: the file name is the decision's id.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from recon_pipeline.atomic_files import write_text_atomically
from recon_pipeline.warehouse.connection import Warehouse

# table -> (id column, columns in insert order)
TABLES = {
    "exception_resolutions": ("resolution_id", ("resolution_id", "exception_id", "action", "reason", "resolved_by",
                                                "resolved_at", "effective_cycle", "adjustment_amount",
                                                "adjustment_account")),
    "manual_matches": ("manual_match_id", ("manual_match_id", "payment_id", "bank_line_id", "reason", "matched_by",
                                           "matched_at", "effective_cycle")),
    "manual_match_undos": ("undo_id", ("undo_id", "manual_match_id", "reason", "undone_by", "undone_at",
                                       "effective_cycle")),
}
_DATES = {"effective_cycle": dt.date.fromisoformat}
_TIMES = {"resolved_at", "matched_at", "undone_at"}


def decisions_dir(landing_dir: Path) -> Path:
    return landing_dir / "decisions"


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def mirror_decision(landing_dir: Path, table: str, row: dict[str, Any]) -> Path:
    """Write one decision as ``<id>.json`` (never overwritten: a decision is never edited)."""
    id_column, columns = TABLES[table]
    folder = decisions_dir(landing_dir) / table
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{row[id_column]}.json"
    if final.exists():
        return final
    write_text_atomically(final, json.dumps({c: _jsonable(row.get(c)) for c in columns}, sort_keys=True))
    return final


def _typed(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in _DATES:
        return _DATES[column](value)
    if column in _TIMES:
        return dt.datetime.fromisoformat(value)
    if column == "adjustment_amount":
        return Decimal(value)
    return value


def restore_decisions(wh: Warehouse, landing_dir: Path) -> int:
    """Insert every mirrored decision the warehouse lacks; returns how many were restored."""
    restored = 0
    for table, (id_column, columns) in TABLES.items():
        folder = decisions_dir(landing_dir) / table
        if not folder.is_dir():
            continue
        known = {r[0] for r in wh.fetchall(f"select {id_column} from ops.{table}")}
        rows = []
        for path in sorted(folder.glob("*.json")):
            if path.stem in known:
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
            rows.append(tuple(_typed(c, data.get(c)) for c in columns))
        if rows:
            with wh.transaction():
                wh.executemany(f"insert into ops.{table} ({', '.join(columns)}) "
                               f"values ({', '.join('?' for _ in columns)})", rows)
            restored += len(rows)
    return restored
