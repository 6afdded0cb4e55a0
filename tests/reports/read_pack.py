"""Reading a close pack back the way a reviewer's spreadsheet does: tables by their header row."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from openpyxl import load_workbook


def open_pack(path):
    return load_workbook(path)


def table(ws, first_header: str, *, first_col: int = 1) -> list[dict[str, Any]]:
    """The rows under the header row whose cell in ``first_col`` is ``first_header``, up to the first blank row."""
    rows = list(ws.iter_rows(values_only=True))
    for i, row in enumerate(rows):
        if len(row) >= first_col and row[first_col - 1] == first_header:
            headers = [h for h in row[first_col - 1:]]
            out = []
            for data in rows[i + 1:]:
                cells = data[first_col - 1:]
                if all(v is None for v in cells):
                    break
                out.append({h: v for h, v in zip(headers, cells) if h is not None})
            return out
    raise AssertionError(f"no table headed {first_header!r} on sheet {ws.title}")


def money(value: Any) -> Decimal:
    """A money cell as Decimal, to the cent (the sheet stores the exact decimal as a number)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))
