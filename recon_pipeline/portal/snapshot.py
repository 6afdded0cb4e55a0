"""The portal's read model: the marts it shows plus prebuilt search tables, published by each build.

Why a snapshot on DuckDB: a DuckDB file has one writer process at a time, and while `recon run`
or a Dagster backfill holds it, no other process can even open it read-only. A portal reading
the warehouse would then either fail or block the build. So the writer, at the end of every
close job (the ``portal_snapshot`` asset), writes what the portal needs into a new file
``$RECON_HOME/portal/snapshot-v<layout>-<stamp>.duckdb`` and switches the pointer
``portal/CURRENT`` to it with an atomic rename. The new file is a copy of the current one with
only the cycles whose marts changed rewritten (``snapshot_delta``: a close costs what its cycle
costs, not what history does), or, the first time and when too much changed, built from scratch
(``snapshot_tables``). The portal only ever opens published files read-only: it keeps answering
from the previous snapshot during a build and never holds the warehouse lock. Snapshots other
than the current and the one before it are removed on publish (a request that read the old
pointer a moment ago may still open the previous one; files already open stay readable after
unlink on POSIX).

On Postgres, many processes read and write at once, so the same tables are built in a
``portal_build`` schema and swapped in as ``portal`` in one transaction; the portal reads the
warehouse directly, with btree indexes (and pg_trgm for names when the extension is there).

The search tables hold lower-cased keys sorted by key, so DuckDB's per-row-group min/max
(zone maps) skip almost every row group for an exact or prefix lookup: a search over millions
of lines reads a few row groups, not the table (bench/search_bench.py measures it).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from recon_pipeline.atomic_files import write_text_atomically
from recon_pipeline.one_line import one_line
from recon_pipeline.portal.snapshot_delta import Refresh, record_full_build, refresh_snapshot
from recon_pipeline.portal.snapshot_tables import build_tables
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import Warehouse

T = TypeVar("T")

POINTER = "CURRENT"
# The layout of the portal's tables. A snapshot of another layout (published by an older recon)
# is not read: `recon serve` publishes a fresh one from the marts, or the next build does.
LAYOUT = 2
SCHEMA = "portal"
_KEEP = 2  # the current snapshot and the one before it

_POSTGRES_INDEXES = [
    "create index on {t}.items (item_no)",
    "create index on {t}.search_keys (search_key text_pattern_ops)",
    "create index on {t}.search_amounts (amount_abs)",
    "create index on {t}.search_names (name_no)",
    "create index on {t}.payments (payment_id)",
    "create index on {t}.bank_lines (bank_line_id)",
    "create index on {t}.exceptions (exception_id)",
    "create index on {t}.links (payment_id)",
    "create index on {t}.links (bank_line_id)",
]


def snapshot_dir(settings: Settings) -> Path:
    return settings.portal_dir


def current_snapshot(settings: Settings) -> Path | None:
    """The published snapshot file the portal reads now (None before the first publish)."""
    pointer = snapshot_dir(settings) / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = snapshot_dir(settings) / name
    return path if name.startswith(f"snapshot-v{LAYOUT}-") and path.is_file() else None


@dataclasses.dataclass(frozen=True)
class Published:
    where: str  # the snapshot file on DuckDB, the schema on Postgres
    how: str    # built in full (and why) or updated in place (and how much)


def publish_snapshot(wh: Warehouse, settings: Settings) -> Published:
    """Bring the portal's tables up to the marts and make them the ones the portal reads.

    Must be called by the process that holds the warehouse (the writer), after the marts are built.
    """
    if not wh.table_exists("marts", "rpt_close_summary"):
        raise LookupError("no marts yet: build a pay cycle before publishing the portal snapshot")
    if wh.kind == "postgres":
        return _publish_postgres(wh)
    return _publish_duckdb(wh, settings)


def _publish_duckdb(wh: Warehouse, settings: Settings) -> Published:
    """A copy of the current snapshot updated in place where only some cycles changed (see
    ``snapshot_delta``), else a new file built from scratch; then the pointer switches to it."""
    folder = snapshot_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"snapshot-v{LAYOUT}-{stamp}-{uuid.uuid4().hex[:6]}.duckdb"
    building = path.with_suffix(".building")
    previous = current_snapshot(settings)
    refresh = Refresh("no snapshot published yet")
    try:
        if previous is not None and not Path(f"{previous}.wal").exists():
            try:
                shutil.copyfile(previous, building)  # published files are never written again
                refresh = _in_attached(wh, building, lambda target: refresh_snapshot(wh, target))
            except Exception as exc:  # noqa: BLE001 - a full build still publishes the right tables
                if _interrupted(exc):
                    raise
                refresh = Refresh(f"the in-place update failed: {one_line(str(exc), 200)}")
            if refresh.full_build_reason:
                _discard(building)
        if refresh.full_build_reason:
            _in_attached(wh, building, lambda target: _build_from_scratch(wh, target))
    except BaseException:
        _discard(building)
        raise
    os.replace(building, path)  # complete before any pointer names it
    write_text_atomically(folder / POINTER, path.name)
    _remove_unused(folder, path.name)
    return Published(str(path), refresh.describe())


def _interrupted(exc: Exception) -> bool:
    """A publish stopped on purpose (run terminated, Ctrl-C) must stop, not start a full build."""
    import duckdb

    return isinstance(exc, duckdb.InterruptException) or "interrupted" in str(exc).lower()


def _discard(building: Path) -> None:
    building.unlink(missing_ok=True)
    Path(f"{building}.wal").unlink(missing_ok=True)


def _build_from_scratch(wh: Warehouse, target: str) -> None:
    catalog = target.split(".")[0]
    wh.execute(f"create schema {catalog}.{SCHEMA}")
    build_tables(wh, target)
    record_full_build(wh, target)


def _in_attached(wh: Warehouse, path: Path, work: Callable[[str], T]) -> T:
    """Run ``work`` on the DuckDB file at ``path`` attached to the warehouse connection; written
    through (checkpointed) and detached before returning."""
    alias = f"portal_snap_{uuid.uuid4().hex[:8]}"
    quoted = str(path).replace("'", "''")
    wh.execute(f"attach '{quoted}' as {alias}")
    try:
        result = work(f"{alias}.{SCHEMA}")
        wh.execute(f"checkpoint {alias}")
        return result
    finally:
        wh.execute(f"detach {alias}")


def _remove_unused(folder: Path, current: str) -> None:
    snapshots = sorted(folder.glob("snapshot-*.duckdb"), key=lambda p: p.name)
    keep = {current, *(p.name for p in snapshots[-_KEEP:])}
    for path in snapshots:
        if path.name not in keep:
            path.unlink(missing_ok=True)
            Path(f"{path}.wal").unlink(missing_ok=True)
    # A build that crashed half-way leaves a .building file: stale after an hour.
    for path in [*folder.glob("snapshot-*.building"), *folder.glob("snapshot-*.building.wal")]:
        if time.time() - path.stat().st_mtime > 3600:
            path.unlink(missing_ok=True)


def _publish_postgres(wh: Warehouse) -> Published:
    """Rebuilt in full in a schema of its own, swapped in at commit: readers never wait, and
    Postgres builds the search indexes; the in-place update is a DuckDB file's remedy."""
    build = f"{SCHEMA}_build"
    trigram = _ensure_trigram(wh)
    with wh.transaction():
        # One publisher at a time; readers keep seeing the old schema until the commit.
        wh.execute("select pg_advisory_xact_lock(hashtext('recon.portal.publish'))")
        wh.execute(f"drop schema if exists {build} cascade")
        wh.execute(f"create schema {build}")
        build_tables(wh, build)
        for index in _POSTGRES_INDEXES:
            wh.execute(index.format(t=build))
        if trigram:
            wh.execute(f"create index on {build}.names using gin (name_key gin_trgm_ops)")
        wh.execute(f"drop schema if exists {SCHEMA} cascade")
        wh.execute(f"alter schema {build} rename to {SCHEMA}")
    return Published(f"{wh.target} schema {SCHEMA}", "built in full (Postgres)")


def _ensure_trigram(wh: Warehouse) -> bool:
    """pg_trgm makes ``name like '%text%'`` an index scan; without it (no right to create the
    extension) the names table is still small enough to scan."""
    try:
        with wh.transaction():
            wh.execute("create extension if not exists pg_trgm")
        return True
    except Exception:
        return False
