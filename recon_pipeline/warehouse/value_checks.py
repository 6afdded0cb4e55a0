"""Does a value fit the warehouse column it is headed for? Asked before anything is written.

Why here and not in the database: a bulk insert fails as a whole (DuckDB's Arrow scan raises
``ArrowInvalid`` for one amount with six decimals), so one bad value would stop every file and
every run after it. Checking each value against the column types of ``raw_schema`` first lets
the loaders quarantine the one row that does not fit, with a one-line reason, and load the rest.

The limits are the types in ``raw_schema``: money is DECIMAL(20,5) (at most 5 decimals and 15
integer digits), integers are 32-bit, dates fit a DATE between years 1 and 9999.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

MONEY_SCALE = 5
MONEY_INTEGER_DIGITS = 15           # DECIMAL(20,5): 20 digits, 5 of them after the point
_MONEY_LIMIT = Decimal(10) ** MONEY_INTEGER_DIGITS
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
_MIN_DATE = dt.date(1900, 1, 1)    # no bank booking predates this; anything earlier is a parse slip


def money_problem(value: Any, what: str = "amount") -> str | None:
    """Why ``value`` cannot be stored as DECIMAL(20,5), or None when it can (None is allowed)."""
    if value is None:
        return None
    if not isinstance(value, Decimal):
        return f"{what} {value!r} is not a decimal"
    if not value.is_finite():
        return f"{what} {value} is not a finite number"
    if abs(value) >= _MONEY_LIMIT:
        return f"{what} {value} is beyond decimal(20,5) (at most {MONEY_INTEGER_DIGITS} integer digits)"
    if value.as_tuple().exponent < -MONEY_SCALE and value != value.quantize(Decimal(1).scaleb(-MONEY_SCALE)):
        return f"{what} {value} has more than {MONEY_SCALE} decimals (warehouse holds decimal(20,5))"
    return None


def int32_problem(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{what} {value!r} is not an integer"
    if not INT32_MIN <= value <= INT32_MAX:
        return f"{what} {value} is out of range for an integer column"
    return None


def date_problem(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dt.date):
        return f"{what} {value!r} is not a date"
    if value < _MIN_DATE:
        return f"{what} {value.isoformat()} is before {_MIN_DATE.isoformat()}"
    return None


def first_problem(*problems: str | None) -> str | None:
    return next((p for p in problems if p), None)
