"""Staging's delivery rules as SQL for the input gate, read from the dbt macros themselves.

The gate runs before dbt builds a cycle, on the raw tables, yet must judge the rows staging
will keep: the statements of the cycle and one delivery per bank line. Rather than restating
those rules in Python (where copies drift), it renders ``dbt_project/macros/delivery_rules.sql``
with plain Jinja: one definition, owned by staging, used by both.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

DELIVERY_RULES = Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "delivery_rules.sql"


@lru_cache(maxsize=1)
def _macros() -> Any:
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        DELIVERY_RULES.read_text(encoding="utf-8")).module


def _render(macro: str, *args: str) -> str:
    sql = " ".join(str(getattr(_macros(), macro)(*args)).split())
    if "%" in sql:   # psycopg reads '%' as a parameter marker: the gate's SQL would fail on Postgres
        raise ValueError(f"{DELIVERY_RULES.name}: macro {macro} writes '%', which the gate cannot pass to Postgres")
    return sql


def statement_pay_cycle_sql(statement: str, last_booking_date: str) -> str:
    """The pay cycle of the statement aliased ``statement`` (stg_statements.pay_cycle)."""
    return _render("statement_pay_cycle", statement, last_booking_date)


def bank_line_is_booked_sql(line: str) -> str:
    """Whether the raw line aliased ``line`` is one staging reconciles (stg_bank_lines)."""
    return _render("bank_line_is_booked", line)


def bank_line_delivery_order_sql(line: str, statement: str) -> str:
    """The order in which stg_bank_lines keeps the first delivery of a bank_line_id."""
    return _render("bank_line_delivery_order", line, statement)
