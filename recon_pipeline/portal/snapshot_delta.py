"""Bring a copy of the last portal snapshot up to the marts by rewriting only what changed (DuckDB).

Why: a publish from scratch copies every mart row of every cycle and re-sorts every search
table. At 5 million payments and 5 million bank lines that is ~40 s on an idle machine and
minutes on a busy one, paid again by every close to show one new cycle: the cost of a close
would grow with history, and a year's backfill would spend hours re-publishing the same rows.

How: each snapshot records, per portal table and pay cycle, the row count and the sum of the
rows' hashes of the mart it was copied from (``publish_cycles``). The next publish copies the
last snapshot file (published files are never written again), fingerprints the marts the same
way, and where a (table, cycle) differs deletes that cycle's rows and inserts the mart's. The
items whose rows were touched (payments and bank lines of those cycles, and of their exceptions)
are recomputed, keeping their ``item_no``; their search rows are replaced, appended sorted by key
so DuckDB's zone maps still skip most row groups. Nothing else is read or written.

A full build is asked for instead (``Refresh.full_build_reason``) when the copy cannot be
trusted to converge: a snapshot without fingerprints, a mart whose columns changed, a cycle
without ``pay_cycle``, or more than half of the rows rewritten since the last full build (the
appended rows would no longer be sorted where most searches look, and deleted rows hold space).
"""
from __future__ import annotations

import dataclasses
import uuid

from recon_pipeline.portal.snapshot_tables import (
    CYCLE_TABLES,
    NEW_NAMES,
    SEARCH_TABLES,
    items_select,
    resolutions_sql,
)
from recon_pipeline.warehouse.connection import Warehouse

# Rewrite at most this share of the rows counted at the last full build before building afresh.
REWRITE_LIMIT = 0.5
ITEMS = "items"  # the rewrite count of the derived items, beside the copied tables'
_KINDS = (("payment", "payment_id", "payments", "marts.fct_payment_reconciliation"),
          ("bank_line", "bank_line_id", "bank_lines", "marts.fct_bank_line_reconciliation"))


@dataclasses.dataclass
class Refresh:
    full_build_reason: str | None = None
    cycles_rewritten: int = 0
    rows_rewritten: int = 0
    items_rewritten: int = 0

    def describe(self) -> str:
        if self.full_build_reason:
            return f"built in full ({self.full_build_reason})"
        return (f"updated in place: {self.cycles_rewritten} table cycle(s), {self.rows_rewritten} row(s), "
                f"{self.items_rewritten} item(s) rewritten")


def _fingerprints_sql() -> str:
    return " union all ".join(
        f"select '{name}' as portal_table, pay_cycle, count(*) as row_count, sum(hash(m)) as fingerprint "
        f"from {mart} as m group by pay_cycle" for name, mart, _ in CYCLE_TABLES)


def _columns(wh: Warehouse) -> dict[str, str]:
    """Each copied mart's columns and types, in order: a change means the copy's tables are stale."""
    marts = {mart: name for name, mart, _ in CYCLE_TABLES}
    found = dict(wh.fetchall(
        "select table_schema || '.' || table_name, "
        "string_agg(column_name || ' ' || data_type, ', ' order by ordinal_position) "
        "from information_schema.columns where table_catalog = current_database() and table_schema = 'marts' "
        "group by table_schema, table_name"))
    return {name: found.get(mart, "") for mart, name in marts.items()}


def record_full_build(wh: Warehouse, target: str) -> None:
    """After a build from scratch: the marts' fingerprints and columns, and the row count to
    measure later rewrites against."""
    wh.execute(f"create table {target}.publish_cycles as {_fingerprints_sql()}")
    wh.execute(f"create table {target}.publish_tables (portal_table varchar, columns varchar, "
               "rows_at_full_build bigint, rows_rewritten bigint)")
    total = {name: 0 for name, _, _ in CYCLE_TABLES}
    for name, count in wh.fetchall(f"select portal_table, sum(row_count) from {target}.publish_cycles "
                                   "group by portal_table"):
        total[name] = int(count)
    for name, columns in _columns(wh).items():
        wh.execute(f"insert into {target}.publish_tables values (?, ?, ?, 0)", (name, columns, total[name]))
    # Items are counted too: their rewritten rows are appended to the search tables unsorted by
    # key across publishes, which is what the limit protects.
    items = wh.fetchone(f"select count(*) from {target}.items")[0]
    wh.execute(f"insert into {target}.publish_tables values ('{ITEMS}', '', ?, 0)", (int(items),))


def refresh_snapshot(wh: Warehouse, target: str) -> Refresh:
    """Update the snapshot copy attached as ``target`` (``catalog.schema``) to the marts in place,
    or say why it must be built afresh (then nothing usable was written to it)."""
    catalog, schema = target.split(".")
    has_state = wh.fetchone(
        "select count(*) from information_schema.tables where table_catalog = ? and table_schema = ? "
        "and table_name in ('publish_cycles', 'publish_tables')", (catalog, schema))
    if not has_state or has_state[0] != 2:
        return Refresh("the last snapshot has no fingerprints")
    state = {name: (columns, int(full), int(rewritten)) for name, columns, full, rewritten in wh.fetchall(
        f"select portal_table, columns, rows_at_full_build, rows_rewritten from {target}.publish_tables")}
    for name, columns in _columns(wh).items():
        if name not in state or state[name][0] != columns:
            return Refresh(f"the columns of {name} changed")
    if ITEMS not in state:
        return Refresh("the last snapshot does not count its rewritten items")

    tag = uuid.uuid4().hex[:10]
    # Working tables live in the connection's temp catalogue: never in the warehouse or the copy.
    working = [f"temp.main.publish_{what}_{tag}" for what in ("now", "changed", "items", "numbered", "names")]
    fingerprints, changed, affected, numbered, old_names = working
    try:
        wh.execute(f"create temp table {_bare(fingerprints)} as {_fingerprints_sql()}")
        if wh.fetchone(f"select count(*) from (select pay_cycle from {fingerprints} union all "
                       f"select pay_cycle from {target}.publish_cycles) as both_sides where pay_cycle is null")[0]:
            return Refresh("a mart has, or had, rows without a pay cycle")
        # Cycles whose fingerprint differs, appears or disappears, with their rows (the larger side).
        wh.execute(f"""
            create temp table {_bare(changed)} as
            with before as (select portal_table, pay_cycle, row_count, fingerprint from {target}.publish_cycles),
            differ as (
                (select * from {fingerprints} except select * from before)
                union all
                (select * from before except select * from {fingerprints})
            )
            select portal_table, pay_cycle, max(row_count) as row_count from differ
            group by portal_table, pay_cycle""")
        refresh = Refresh()
        rows = {name: 0 for name, _, _ in CYCLE_TABLES}
        for name, cycles, count in wh.fetchall(
                f"select portal_table, count(*), sum(row_count) from {changed} group by portal_table"):
            rows[name] = int(count)
            refresh.cycles_rewritten += int(cycles)
        for name, (_, full, rewritten) in state.items():
            if name != ITEMS and rows[name] and rewritten + rows[name] > REWRITE_LIMIT * max(full, 1):
                return Refresh(f"{rewritten + rows[name]} of {full} {name} rows rewritten since the last full build")
        refresh.rows_rewritten = sum(rows.values())

        _collect_affected_items(wh, target, changed, affected)
        for name, mart, order in CYCLE_TABLES:
            if rows[name]:
                in_changed = f"pay_cycle in (select pay_cycle from {changed} where portal_table = '{name}')"
                wh.execute(f"delete from {target}.{name} where {in_changed}")
                wh.execute(f"insert into {target}.{name} by name select * from {mart} where {in_changed} "
                           f"order by {order}")
        wh.execute(f"create or replace table {target}.resolutions as {resolutions_sql(wh)}")
        refresh.items_rewritten = _rewrite_items(wh, target, affected, numbered, old_names)
        rows[ITEMS] = refresh.items_rewritten
        _, items_full, items_rewritten = state[ITEMS]
        if items_rewritten + rows[ITEMS] > REWRITE_LIMIT * max(items_full, 1):
            return Refresh(f"{items_rewritten + rows[ITEMS]} of {items_full} items rewritten since the last full build")

        wh.execute(f"delete from {target}.publish_cycles")
        wh.execute(f"insert into {target}.publish_cycles select * from {fingerprints}")
        for name in state:
            wh.execute(f"update {target}.publish_tables set rows_rewritten = rows_rewritten + ? "
                       "where portal_table = ?", (rows.get(name, 0), name))
        return refresh
    finally:
        for table in working:
            wh.execute(f"drop table if exists {table}")


def _bare(name: str) -> str:
    """``temp.main.x`` -> ``x``: DuckDB creates temp tables by their bare name only."""
    return name.rsplit(".", 1)[1]


def _collect_affected_items(wh: Warehouse, target: str, changed: str, affected: str) -> None:
    """Every payment and bank line with a row in a changed cycle of its own table, before (the
    copy) or after (the marts), and every one any row of a touched exception names (an exception
    with a row in a changed cycle): their latest row, or the exception they show, may have moved."""
    in_changed_exceptions = f"pay_cycle in (select pay_cycle from {changed} where portal_table = 'exceptions')"
    touched = (f"exception_id in (select exception_id from {target}.exceptions where {in_changed_exceptions} "
               f"union select exception_id from marts.fct_exceptions where {in_changed_exceptions})")
    parts = []
    for kind, key, table, mart in _KINDS:
        own = f"pay_cycle in (select pay_cycle from {changed} where portal_table = '{table}')"
        parts += [f"select '{kind}' as kind, {key} as item_id from {target}.{table} where {own}",
                  f"select '{kind}', {key} from {mart} where {own}",
                  f"select '{kind}', {key} from {target}.exceptions where {key} is not null and {touched}",
                  f"select '{kind}', {key} from marts.fct_exceptions where {key} is not null and {touched}"]
    wh.execute(f"create temp table {_bare(affected)} as " + " union ".join(parts))


def _rewrite_items(wh: Warehouse, target: str, affected: str, numbered: str, old_names: str) -> int:
    """Recompute the affected items from the updated copy; an item keeps its number, a new one
    gets the next free; their search rows are replaced and appended in key order."""
    payments = f"payment_id in (select item_id from {affected} where kind = 'payment')"
    lines = f"bank_line_id in (select item_id from {affected} where kind = 'bank_line')"
    exceptions = (f"exception_id in (select exception_id from {target}.exceptions "
                  f"where {payments} or {lines})")
    last_no = wh.fetchone(f"select coalesce(max(item_no), 0) from {target}.items")[0]
    last_name = wh.fetchone(f"select coalesce(max(name_no), 0) from {target}.names")[0]
    wh.execute(f"""
        create temp table {_bare(numbered)} as
        with recomputed as ({items_select(target, payments, lines, exceptions)}),
        before as (
            select i.item_no, i.kind, i.item_id from {target}.items as i
            join {affected} as a on a.kind = i.kind and a.item_id = i.item_id
        )
        select coalesce(b.item_no, {int(last_no)} + row_number() over (
                   order by b.item_no is not null, r.kind, r.item_id)) as item_no, r.*
        from recomputed as r
        left join before as b on b.kind = r.kind and b.item_id = r.item_id""")
    old = (f"item_no in (select i.item_no from {target}.items as i "
           f"join {affected} as a on a.kind = i.kind and a.item_id = i.item_id)")
    wh.execute(f"create temp table {_bare(old_names)} as "
               f"select distinct name_no from {target}.search_names where {old}")
    for name, _ in SEARCH_TABLES:
        wh.execute(f"delete from {target}.{name} where {old}")
    # A name only the rewritten items had goes, as a build from scratch would not list it (and
    # it would take one of the 50 names a search looks at); one they still have comes back below.
    wh.execute(f"delete from {target}.names as n where n.name_no in (select name_no from {old_names}) "
               f"and not exists (select 1 from {target}.search_names as s where s.name_no = n.name_no)")
    wh.execute(f"delete from {target}.items where {old}")
    wh.execute(f"insert into {target}.items by name select * from {numbered} order by item_no")
    new = f"item_no in (select item_no from {numbered})"
    wh.execute(f"insert into {target}.names by name select {int(last_name)} + row_number() over "
               f"(order by name_key) as name_no, name_key from ({NEW_NAMES.format(t=target, where=new)}) "
               "as new_names order by name_no")
    for name, select in SEARCH_TABLES:
        wh.execute(f"insert into {target}.{name} by name {select.format(t=target, where=new)}")
    return int(wh.fetchone(f"select count(*) from {numbered}")[0])
