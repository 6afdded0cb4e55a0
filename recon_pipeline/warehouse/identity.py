"""Is this the warehouse the home has been using? A missing or replaced warehouse is refused.

Why: DuckDB creates a missing file on connect (and Postgres happily serves a database dropped
and recreated under the same name), so a warehouse deleted mid-run used to come back empty
and silently: exit 0, close packs with 0 accounts, every check passing on 0 rows, the operator
decisions gone. Each warehouse therefore carries an id (``ops.warehouse_identity``) and the
home records it per target in ``$RECON_HOME/warehouse_id.json``. On every open:

- the home knows an id for this target and the warehouse has the same id: fine;
- the home knows an id but the DuckDB file is gone, or the warehouse has no id or another
  one: refused with one line (restore the warehouse, or ``recon run --rebuild`` forgets the
  recorded id to rebuild from the landing zone on purpose);
- the home knows no id for this target: the warehouse's id is recorded (a fresh home, an
  existing warehouse adopted by this version, or a deliberate rebuild), created if it has none.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from recon_pipeline.atomic_files import write_text_atomically

if TYPE_CHECKING:
    from recon_pipeline.warehouse.connection import Warehouse

MARKER_NAME = "warehouse_id.json"


class WarehouseReplaced(RuntimeError):
    """The warehouse is not the one the home recorded; the message is the one-line reason."""


def marker_path(home: Path) -> Path:
    return Path(home) / MARKER_NAME


def recorded_ids(home: Path) -> dict[str, str]:
    try:
        data = json.loads(marker_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _record(home: Path, target: str, warehouse_id: str) -> None:
    ids = recorded_ids(home)
    ids[target] = warehouse_id
    write_text_atomically(marker_path(home), json.dumps(ids, indent=1, sort_keys=True))


def _advice(home: Path, target: str) -> str:
    return ("restore it, or run `recon run --rebuild --through DATE` to rebuild it from the landing "
            "zone on purpose (operator decisions come back from their mirror there)")


def forget_recorded(home: Path, target: str) -> str | None:
    """Forget the id recorded for ``target`` (an operator's deliberate rebuild); returns it."""
    ids = recorded_ids(home)
    forgotten = ids.pop(target, None)
    if forgotten is not None:
        write_text_atomically(marker_path(home), json.dumps(ids, indent=1, sort_keys=True))
    return forgotten


def check_missing_file(home: Path, target: str, path: Path) -> None:
    """Before DuckDB connects (and would create an empty file): refuse a recorded file that is gone."""
    recorded = recorded_ids(home).get(target)
    if recorded and not path.exists():
        raise WarehouseReplaced(f"warehouse {path} is missing (this home recorded warehouse {recorded}); "
                                f"{_advice(home, target)}")


def _warehouse_id(wh: Warehouse) -> str | None:
    if not wh.table_exists("ops", "warehouse_identity"):
        return None
    row = wh.fetchone("select warehouse_id from ops.warehouse_identity order by created_at limit 1")
    return row[0] if row else None


def verify_identity(wh: Warehouse, home: Path, read_only: bool = False) -> str | None:
    """Check (and on first use record) the warehouse's id; raises ``WarehouseReplaced``."""
    target = wh.target
    recorded = recorded_ids(home).get(target)
    current = _warehouse_id(wh)
    if recorded:
        if current == recorded:
            return current
        what = "has no recon id (it was recreated empty)" if current is None else f"is warehouse {current}"
        raise WarehouseReplaced(f"warehouse {target} {what}, but this home recorded warehouse {recorded}: "
                                f"it was replaced; {_advice(home, target)}")
    if current is None:
        if read_only:
            return None
        with wh.catalogue_change():  # two first openers at once must agree on one id
            current = _warehouse_id(wh)
            if current is None:
                current = uuid.uuid4().hex
                now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
                wh.execute("create schema if not exists ops")
                wh.execute("create table if not exists ops.warehouse_identity "
                           "(warehouse_id varchar primary key, created_at timestamp not null)")
                wh.execute("insert into ops.warehouse_identity (warehouse_id, created_at) values (?, ?)",
                           (current, now))
    _record(home, target, current)
    return current
