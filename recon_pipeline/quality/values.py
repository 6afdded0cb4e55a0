"""Values the suites read that need exact arithmetic: an amount's canonical text and scale,
display text of money, timestamps as naive UTC, and a cycle's UTC window.

Money stays Decimal; scale is read off the Decimal's exponent, never computed via float.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from recon_pipeline.cycles import dbt_vars_for_cycle
from recon_pipeline.settings import Settings


def amount_text(value: Any) -> str | None:
    """Canonical decimal text without trailing zeros ('10.12300' -> '10.123'); never via float.

    A float reaching this point is itself a defect (money must be Decimal), so it is
    rendered in a form the amount-format expectations reject.
    """
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, float):
        return f"float:{value!r}"
    if isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value).strip())
        except InvalidOperation:
            return str(value)
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def amount_scale(value: Any) -> int | None:
    """Number of significant decimals of a Decimal amount (10.120 -> 2, 100 -> 0)."""
    text = amount_text(value)
    if text is None or not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return None
    return len(text.split(".", 1)[1]) if "." in text else 0


def money(value: Any) -> str:
    """Display text of an amount: exact, without the warehouse's padding zeros, at least 2 decimals."""
    if not isinstance(value, Decimal):
        return "null" if value is None else str(value)
    shown = value.normalize()
    if shown.as_tuple().exponent > -2:
        shown = value.quantize(Decimal("0.01"))
    return format(shown, "f")


def naive_utc(value: Any) -> dt.datetime | None:
    """A timestamp as naive UTC (how raw tables hold them); ISO strings accepted."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    return None


def cycle_window(pay_cycle: str, settings: Settings) -> tuple[dt.datetime, dt.datetime]:
    """The cycle's half-open UTC window as naive datetimes, from ``dbt_vars_for_cycle``."""
    dbt_vars = dbt_vars_for_cycle(pay_cycle, settings)
    fmt = "%Y-%m-%d %H:%M:%S"
    return (dt.datetime.strptime(dbt_vars["cycle_start_utc"], fmt),
            dt.datetime.strptime(dbt_vars["cycle_end_utc"], fmt))
