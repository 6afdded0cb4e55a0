"""Reading the decisions finance wrote into a close pack's exceptions sheet.

The pack's layout changes over time (titles, extra columns, sheet order), so nothing here
relies on positions: the sheet is the one with a header row naming ``Exception id``,
``Status``, ``Action`` and ``Reason``, found by those names, and the pack's pay cycle comes from
the workbook's title, the lines above the header, or the file name. Only rows whose
``Action`` is filled in are decisions.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from recon_pipeline.operators.decisions import Decision, clean_text

REQUIRED_HEADERS = ("Exception id", "Status", "Action", "Reason")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class SheetDecisions:
    path: Path
    sha256: str
    sheet: str
    pack_cycle: dt.date
    decisions: list[Decision]


def _norm(value) -> str:
    return clean_text(value).lower()


def _cycle_in(text) -> dt.date | None:
    match = _DATE.search(str(text or ""))
    if not match:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def read_exceptions_sheet(path: Path) -> SheetDecisions:
    """The filled-in decisions of a close pack; ``ValueError`` with one line when it is not one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a workbook: one line, not a traceback
        raise ValueError(f"{path.name} is not an Excel workbook ({type(exc).__name__})") from None
    try:
        wanted = {_norm(h) for h in REQUIRED_HEADERS}
        sheets = sorted(wb.worksheets, key=lambda ws: ws.title != "Exceptions")
        for ws in sheets:
            above: list = []
            rows = ws.iter_rows(values_only=True)
            for number, row in enumerate(rows, start=1):
                names = [_norm(v) for v in row]
                if wanted <= set(names):
                    columns = {name: names.index(name) for name in wanted}
                    cycle = (_cycle_in(wb.properties.title) or next(filter(None, map(_cycle_in, above)), None)
                             or _cycle_in(path.name))
                    if cycle is None:
                        raise ValueError(f"cannot tell which pay cycle {path.name} is for "
                                         "(no date in its title or file name)")
                    decisions = list(_decisions(rows, number, columns))
                    return SheetDecisions(path, hashlib.sha256(data).hexdigest(), ws.title, cycle, decisions)
                above += [v for v in row if v is not None]
        raise ValueError(f"{path.name} has no exceptions sheet: no header row with "
                         f"{', '.join(REQUIRED_HEADERS)}")
    finally:
        wb.close()


def _decisions(rows, header_number: int, columns: dict[str, int]):
    def cell(row, name):
        index = columns[_norm(name)]
        return row[index] if index < len(row) else None

    for number, row in enumerate(rows, start=header_number + 1):
        action = _norm(cell(row, "Action"))
        if not action:
            continue
        yield Decision(exception_id=clean_text(cell(row, "Exception id")), action=action,
                       reason=clean_text(cell(row, "Reason")), where=f"row {number}",
                       sheet_status=_norm(cell(row, "Status")))
