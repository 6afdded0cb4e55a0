"""The portal's read model: the marts it shows plus prebuilt search tables, published by each build.

Why a snapshot on DuckDB: a DuckDB file has one writer process at a time, and while `recon run`
or a Dagster backfill holds it, no other process can even open it read-only. A portal reading
the warehouse would then either fail or block the build. So the writer, at the end of every
close job (the ``portal_snapshot`` asset), copies what the portal needs into a new file
``$RECON_HOME/portal/snapshot-v<layout>-<stamp>.duckdb`` and switches the pointer ``portal/CURRENT`` to it
with an atomic rename. The portal only ever opens published files read-only: it keeps
answering from the previous snapshot during a build and never holds the warehouse lock.
Snapshots other than the current and the one before it are removed on publish (a request
that read the old pointer a moment ago may still open the previous one; files already open
stay readable after unlink on POSIX).

On Postgres, many processes read and write at once, so the same tables are built in a
``portal_build`` schema and swapped in as ``portal`` in one transaction; the portal reads the
warehouse directly, with btree indexes (and pg_trgm for names when the extension is there).

The search tables hold lower-cased keys sorted by key, so DuckDB's per-row-group min/max
(zone maps) skip almost every row group for an exact or prefix lookup: a search over millions
of lines reads a few row groups, not the table (bench/search_bench.py measures it).
"""
from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from pathlib import Path

from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import Warehouse

POINTER = "CURRENT"
# The layout of the portal's tables. A snapshot of another layout (published by an older recon)
# is not read: `recon serve` publishes a fresh one from the marts, or the next build does.
LAYOUT = 2
SCHEMA = "portal"
_KEEP = 2  # the current snapshot and the one before it

_RESOLUTION_COLUMNS = (("resolution_id", "varchar"), ("exception_id", "varchar"), ("action", "varchar"),
                       ("reason", "varchar"), ("resolved_by", "varchar"), ("resolved_at", "timestamp"),
                       ("effective_cycle", "date"))

# Every cycle's row of an item, with its rank (1 = latest), first cycle and number of cycles.
_LATEST = ("select *, row_number() over (partition by {key} order by pay_cycle desc) as cycle_rank, "
           "min(pay_cycle) over (partition by {key}) as first_cycle, "
           "count(*) over (partition by {key}) as cycle_count from {{t}}.{table}")

# Each portal table, built from the marts (``{t}`` is the target schema). Order matters:
# later tables read earlier ones.
_TABLES: list[tuple[str, str]] = [
    ("cycles", "select * from marts.rpt_close_summary order by pay_cycle, account_iban"),
    ("exceptions", "select * from marts.fct_exceptions order by exception_id, pay_cycle"),
    ("links", "select * from marts.fct_reconciliation_links order by payment_id, bank_line_id"),
    ("payments", "select * from marts.fct_payment_reconciliation order by payment_id, pay_cycle"),
    ("bank_lines", "select * from marts.fct_bank_line_reconciliation order by bank_line_id, pay_cycle"),
    # One row per payment and per bank line: its latest cycle, what search shows.
    ("items", """
        with payments as ({latest_payments}),
        bank_lines as ({latest_bank_lines}),
        latest_exceptions as (
            select exception_id, payment_id, bank_line_id,
                   row_number() over (partition by exception_id order by pay_cycle desc) as cycle_rank
            from {t}.exceptions
        ),
        exception_of_payment as (
            select payment_id, max(exception_id) as exception_id
            from latest_exceptions where cycle_rank = 1 and payment_id is not null group by payment_id
        ),
        exception_of_line as (
            select bank_line_id, max(exception_id) as exception_id
            from latest_exceptions where cycle_rank = 1 and bank_line_id is not null group by bank_line_id
        ),
        final as (
            select 'payment' as kind, p.payment_id as item_id, p.pay_cycle, p.first_cycle, p.cycle_count,
                   p.account_iban, p.amount, p.currency, p.recon_status, p.exception_type,
                   p.end_to_end_id, cast(null as varchar) as bank_reference, p.counterparty_name,
                   e.exception_id
            from payments as p
            left join exception_of_payment as e on e.payment_id = p.payment_id
            where p.cycle_rank = 1
            union all
            select 'bank_line', l.bank_line_id, l.pay_cycle, l.first_cycle, l.cycle_count,
                   l.account_iban, l.amount, l.currency, l.recon_status, l.exception_type,
                   l.end_to_end_id, l.bank_reference, l.counterparty_name,
                   e.exception_id
            from bank_lines as l
            left join exception_of_line as e on e.bank_line_id = l.bank_line_id
            where l.cycle_rank = 1
        )
        select row_number() over (order by kind, item_id) as item_no, *
        from final order by item_no""".replace(
        "{latest_payments}", _LATEST.format(key="payment_id", table="payments")).replace(
        "{latest_bank_lines}", _LATEST.format(key="bank_line_id", table="bank_lines"))),
    # Exact and prefix lookups by payment id, bank line id, end-to-end id, bank reference.
    # Items are referred to by their integer item_no: joining on an integer is what keeps the
    # final lookup of a hundred items fast over millions of rows.
    ("search_keys", """
        select lower(item_id) as search_key, item_no from {t}.items
        union all
        select lower(end_to_end_id), item_no from {t}.items where end_to_end_id is not null
        union all
        select lower(bank_reference), item_no from {t}.items where bank_reference is not null
        order by search_key"""),
    ("search_amounts", """
        select abs(amount) as amount_abs, item_no from {t}.items where amount is not null
        order by amount_abs"""),
    # Few distinct counterparties: a substring match runs on them, then their numbers are
    # looked up in the item list sorted by name number.
    ("names", """
        select row_number() over (order by name_key) as name_no, name_key
        from (select distinct lower(counterparty_name) as name_key from {t}.items
              where counterparty_name is not null) as distinct_names
        order by name_no"""),
    ("search_names", """
        select n.name_no, i.item_no from {t}.items as i
        join {t}.names as n on n.name_key = lower(i.counterparty_name)
        order by n.name_no, i.item_no"""),
]

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


def _resolutions_sql(wh: Warehouse) -> str:
    if wh.table_exists("ops", "exception_resolutions"):
        return "select * from ops.exception_resolutions order by exception_id, resolved_at"
    # No operator has resolved anything yet: an empty table with the log's columns.
    columns = ", ".join(f"cast(null as {kind}) as {name}" for name, kind in _RESOLUTION_COLUMNS)
    return f"select {columns} where 1 = 0"


def _build_tables(wh: Warehouse, target: str) -> None:
    wh.execute(f"create table {target}.resolutions as {_resolutions_sql(wh)}")
    for name, select in _TABLES:
        wh.execute(f"create table {target}.{name} as {select.format(t=target)}")


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


def publish_snapshot(wh: Warehouse, settings: Settings) -> str:
    """Build the portal's tables from the marts and make them the ones the portal reads.

    Returns where they went (a file on DuckDB, the ``portal`` schema on Postgres). Must be
    called by the process that holds the warehouse (the writer), after the marts are built.
    """
    if not wh.table_exists("marts", "rpt_close_summary"):
        raise LookupError("no marts yet: build a pay cycle before publishing the portal snapshot")
    if wh.kind == "postgres":
        return _publish_postgres(wh)
    return _publish_duckdb(wh, settings)


def _publish_duckdb(wh: Warehouse, settings: Settings) -> str:
    folder = snapshot_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"snapshot-v{LAYOUT}-{stamp}-{uuid.uuid4().hex[:6]}.duckdb"
    building = path.with_suffix(".building")
    alias = f"portal_snap_{uuid.uuid4().hex[:8]}"
    quoted = str(building).replace("'", "''")
    wh.execute(f"attach '{quoted}' as {alias}")
    try:
        wh.execute(f"create schema {alias}.{SCHEMA}")
        _build_tables(wh, f"{alias}.{SCHEMA}")
    finally:
        wh.execute(f"detach {alias}")
    os.replace(building, path)  # complete before any pointer names it
    _switch_pointer(folder, path.name)
    _remove_unused(folder, path.name)
    return str(path)


def _switch_pointer(folder: Path, name: str) -> None:
    tmp = folder / f".{POINTER}.{uuid.uuid4().hex}"
    tmp.write_text(name, encoding="utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, folder / POINTER)


def _remove_unused(folder: Path, current: str) -> None:
    snapshots = sorted(folder.glob("snapshot-*.duckdb"), key=lambda p: p.name)
    keep = {current, *(p.name for p in snapshots[-_KEEP:])}
    for path in snapshots:
        if path.name not in keep:
            path.unlink(missing_ok=True)
            Path(f"{path}.wal").unlink(missing_ok=True)
    # A build that crashed half-way leaves a .building file: stale after an hour.
    for path in folder.glob("snapshot-*.building"):
        if time.time() - path.stat().st_mtime > 3600:
            path.unlink(missing_ok=True)


def _publish_postgres(wh: Warehouse) -> str:
    build = f"{SCHEMA}_build"
    trigram = _ensure_trigram(wh)
    with wh.transaction():
        # One publisher at a time; readers keep seeing the old schema until the commit.
        wh.execute("select pg_advisory_xact_lock(hashtext('recon.portal.publish'))")
        wh.execute(f"drop schema if exists {build} cascade")
        wh.execute(f"create schema {build}")
        _build_tables(wh, build)
        for index in _POSTGRES_INDEXES:
            wh.execute(index.format(t=build))
        if trigram:
            wh.execute(f"create index on {build}.names using gin (name_key gin_trgm_ops)")
        wh.execute(f"drop schema if exists {SCHEMA} cascade")
        wh.execute(f"alter schema {build} rename to {SCHEMA}")
    return f"{wh.target} schema {SCHEMA}"


def _ensure_trigram(wh: Warehouse) -> bool:
    """pg_trgm makes ``name like '%text%'`` an index scan; without it (no right to create the
    extension) the names table is still small enough to scan."""
    try:
        with wh.transaction():
            wh.execute("create extension if not exists pg_trgm")
        return True
    except Exception:
        return False
