"""Money as the tests read it back: exact decimals, never floats compared to floats.

A workbook stores a number as the decimal text the writer gave it; openpyxl hands it back as a
float. ``cell_decimal`` turns that back into the shortest decimal that reads as the same float,
which is the amount written when it was written from a Decimal to the cent, and shows the float
noise (``0.30000000000000004``) when a float crept in on the way.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any


def cell_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(str(value).replace(",", ""))
