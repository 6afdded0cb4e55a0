"""The portal's tables: which marts they copy and how items and search tables derive from them.

One definition serves the build from scratch (here), the in-place update of a copied snapshot
(``snapshot_delta``) and Postgres' ``portal`` schema (``snapshot``), so the three cannot drift.
``{t}`` is the target ``schema`` or ``catalog.schema``; ``{where}`` narrows a derived table to
some items.
"""
from __future__ import annotations

from recon_pipeline.warehouse.connection import Warehouse

_RESOLUTION_COLUMNS = (("resolution_id", "varchar"), ("exception_id", "varchar"), ("action", "varchar"),
                       ("reason", "varchar"), ("resolved_by", "varchar"), ("resolved_at", "timestamp"),
                       ("effective_cycle", "date"))

# The portal tables copied from the marts, one row per item and cycle: (table, mart, sort order).
# Every one has ``pay_cycle``, which is what lets a publish rewrite only the cycles that changed.
CYCLE_TABLES: list[tuple[str, str, str]] = [
    ("cycles", "marts.rpt_close_summary", "pay_cycle, account_iban"),
    ("exceptions", "marts.fct_exceptions", "exception_id, pay_cycle"),
    ("links", "marts.fct_reconciliation_links", "payment_id, bank_line_id"),
    ("payments", "marts.fct_payment_reconciliation", "payment_id, pay_cycle"),
    ("bank_lines", "marts.fct_bank_line_reconciliation", "bank_line_id, pay_cycle"),
]

# Every cycle's row of an item, with its rank (1 = latest), first cycle and number of cycles.
_LATEST = ("select *, row_number() over (partition by {key} order by pay_cycle desc) as cycle_rank, "
           "min(pay_cycle) over (partition by {key}) as first_cycle, "
           "count(*) over (partition by {key}) as cycle_count from {t}.{table} where {where}")


def items_select(t: str, payments_where: str = "true", lines_where: str = "true",
                 exceptions_where: str = "true") -> str:
    """One row per payment and per bank line: its latest cycle, what search shows (without its
    ``item_no``). The filters narrow it to some items; ``exceptions_where`` must keep every row
    of an exception it keeps (its latest cycle is ranked among them)."""
    return f"""
        with payments as ({_LATEST.format(key="payment_id", table="payments", t=t, where=payments_where)}),
        bank_lines as ({_LATEST.format(key="bank_line_id", table="bank_lines", t=t, where=lines_where)}),
        latest_exceptions as (
            select exception_id, payment_id, bank_line_id,
                   row_number() over (partition by exception_id order by pay_cycle desc) as cycle_rank
            from {t}.exceptions where {exceptions_where}
        ),
        exception_of_payment as (
            select payment_id, max(exception_id) as exception_id
            from latest_exceptions where cycle_rank = 1 and payment_id is not null group by payment_id
        ),
        exception_of_line as (
            select bank_line_id, max(exception_id) as exception_id
            from latest_exceptions where cycle_rank = 1 and bank_line_id is not null group by bank_line_id
        )
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
        where l.cycle_rank = 1"""


# The search tables, built from ``items`` (those matching ``where``) and ``names``, each sorted
# by its key. Items are referred to by their integer item_no: joining on an integer is what
# keeps the final lookup of a hundred items fast over millions of rows.
SEARCH_TABLES: list[tuple[str, str]] = [
    # Exact and prefix lookups by payment id, bank line id, end-to-end id, bank reference.
    ("search_keys", """
        select lower(item_id) as search_key, item_no from {t}.items where {where}
        union all
        select lower(end_to_end_id), item_no from {t}.items where end_to_end_id is not null and {where}
        union all
        select lower(bank_reference), item_no from {t}.items where bank_reference is not null and {where}
        order by search_key"""),
    ("search_amounts", """
        select abs(amount) as amount_abs, item_no from {t}.items where amount is not null and {where}
        order by amount_abs"""),
    # Few distinct counterparties: a substring match runs on ``names``, then their numbers are
    # looked up in the item list sorted by name number.
    ("search_names", """
        select n.name_no, i.item_no from {t}.items as i
        join {t}.names as n on n.name_key = lower(i.counterparty_name)
        where {where}
        order by n.name_no, i.item_no"""),
]

# Distinct counterparty names of ``items`` (those matching ``where``) not yet in ``names``.
NEW_NAMES = """
    select distinct lower(counterparty_name) as name_key from {t}.items as i
    where counterparty_name is not null and {where}
      and not exists (select 1 from {t}.names as n where n.name_key = lower(i.counterparty_name))"""


def resolutions_sql(wh: Warehouse) -> str:
    if wh.table_exists("ops", "exception_resolutions"):
        return "select * from ops.exception_resolutions order by exception_id, resolved_at"
    # No operator has resolved anything yet: an empty table with the log's columns.
    columns = ", ".join(f"cast(null as {kind}) as {name}" for name, kind in _RESOLUTION_COLUMNS)
    return f"select {columns} where 1 = 0"


def build_tables(wh: Warehouse, target: str) -> None:
    """Every portal table from scratch (the first publish, a new layout, or too much changed)."""
    wh.execute(f"create table {target}.resolutions as {resolutions_sql(wh)}")
    for name, mart, order in CYCLE_TABLES:
        wh.execute(f"create table {target}.{name} as select * from {mart} order by {order}")
    wh.execute(f"create table {target}.items as select row_number() over (order by kind, item_id) as item_no, * "
               f"from ({items_select(target)}) as latest order by item_no")
    wh.execute(f"create table {target}.names (name_no bigint, name_key varchar)")
    wh.execute(f"insert into {target}.names select row_number() over (order by name_key), name_key "
               f"from ({NEW_NAMES.format(t=target, where='true')}) as new_names order by 1")
    for name, select in SEARCH_TABLES:
        wh.execute(f"create table {target}.{name} as {select.format(t=target, where='true')}")
