"""Streaming sheet writing for the close pack: cells, finance formats, widths, print set-up.

The pack is written with openpyxl's write-only mode so a 200,000-line cycle never holds its
rows in Python at once. Write-only mode fixes the order of work: column widths and frozen
panes go out before the first row, filters and print set-up after the last. ``SheetPlan``
follows that order: declare the columns (with a width measured from the data, by SQL for
streamed tables), then stream rows, then close with the filter range that was written.

Every value written also feeds a running SHA-256 (``DataDigest``) so the sign-off can name
the exact data the pack was built from.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"
RATE_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
BOLD = Font(bold=True)
NOTE_FONT = Font(italic=True, color="595959")
# Excel keeps 15 significant digits of a number; more are silently lost, so such amounts go
# in as text (with a note) rather than as a number that is no longer the amount.
EXCEL_DIGITS = 15
TEXT_AMOUNT_NOTE = "Exact amount written as text: Excel cannot hold more than 15 significant digits."
# ISO 4217 minor units where they differ from 2.
MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "HUF": 2,
               "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3}
MAX_WIDTH = 60
FORMULA_STARTS = ("=", "+", "-", "@")
A4_MAX_WIDTH = 200


def money_format(currency: str | None) -> str:
    """The number format of an amount in ``currency``: its minor units, the code, negatives red."""
    if not currency:
        return MONEY_FORMAT
    decimals = MINOR_UNITS.get(currency.upper(), 2)
    number = "#,##0" + ("." + "0" * decimals if decimals else "")
    code = "".join(ch for ch in currency.upper() if ch.isalnum())[:3]
    return f'{number} "{code}";[Red]-{number} "{code}"'


def too_precise_for_excel(value: Decimal) -> bool:
    digits = value.normalize().as_tuple().digits if value else (0,)
    return len(digits) > EXCEL_DIGITS


def set_cell(cell: Cell, value: Any, currency: str | None = None) -> None:
    """Write a value so Excel shows it as data: strings are always text, never formulas.

    Decimals keep their exact value when Excel can hold it, and are written as text with a
    note when it cannot (more than 15 significant digits).
    """
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)   # XML cannot hold control characters
        cell.value = value
        cell.data_type = "s"
        if value[:1] in FORMULA_STARTS:
            cell.quotePrefix = True
    elif isinstance(value, Decimal):
        if too_precise_for_excel(value):
            cell.value = format(value, "f")
            cell.data_type = "s"
            cell.alignment = Alignment(horizontal="right")
            cell.comment = Comment(TEXT_AMOUNT_NOTE, "recon")
        else:
            cell.value = value
            cell.number_format = money_format(currency) if currency else MONEY_FORMAT
    elif isinstance(value, dt.datetime):
        cell.value = value
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        cell.value = value


class DataDigest:
    """A running SHA-256 over every value the pack shows, in order (sheet, row, value)."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()

    def sheet(self, name: str) -> None:
        self._sha.update(b"\x1e" + name.encode())

    def row(self, values: Sequence[Any]) -> None:
        self._sha.update(b"\x1d" + "\x1f".join("" if v is None else _canonical(v) for v in values).encode())

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, float):
        return format(Decimal(str(value)).normalize(), "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


@dataclass
class Column:
    """One column of a table: header, kind (text, money, count, rate, date, datetime) and width."""

    header: str
    kind: str = "text"
    width: int = 0
    currency_from: int | None = None   # index of the row value holding this amount's currency

    def fit(self, length: int) -> None:
        self.width = max(self.width, min(MAX_WIDTH, length))


def fresh(columns: Sequence[Column]) -> list[Column]:
    """Copies of a table's column definitions, so widths fitted for one pack never leak into the next."""
    return [Column(c.header, c.kind, 0, c.currency_from) for c in columns]


def display_length(kind: str, value: Any) -> int:
    """How many characters a value takes on screen, formatted as the pack shows it."""
    if value is None:
        return 0
    if kind == "money":
        try:
            return len(f"{abs(Decimal(str(value))):,.2f}") + 6    # sign, currency code
        except Exception:  # noqa: BLE001 - a non-number in a money column: show it as text
            return len(str(value))
    if kind == "rate":
        return 7
    if kind == "date":
        return 10
    if kind == "datetime":
        return 16
    return len(str(value))


@dataclass
class SheetPlan:
    """One write-only worksheet: columns sized first, then rows streamed, then closed."""

    ws: Any
    digest: DataDigest
    columns: list[Column] = field(default_factory=list)
    row: int = 0                       # last row written
    filter_ref: str | None = None
    print_rows: str | None = None
    total_width: int = 0

    def __post_init__(self) -> None:
        # Sheet properties are written before the first row in write-only mode: set them now.
        self.ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)

    def size(self, tables: Iterable[Sequence[Column]], minimum: int = 9) -> None:
        """Set the widths of the sheet's columns from every table it will hold (before any row)."""
        widths: dict[int, int] = {}
        for table in tables:
            for i, col in enumerate(table, start=1):
                # headers wrap (on words), so a long header does not widen a column of short figures
                header = max([len(w) for w in col.header.split()] + [min(len(col.header), 12)])
                widths[i] = max(widths.get(i, minimum), min(MAX_WIDTH, max(col.width, header) + 3))
        for i, width in widths.items():
            self.ws.column_dimensions[get_column_letter(i)].width = width
        self.total_width = sum(widths.values())

    def freeze(self, cell: str) -> None:
        self.ws.freeze_panes = cell

    def cell(self, value: Any, *, font: Font | None = None, currency: str | None = None,
             number_format: str | None = None, fill: PatternFill | None = None) -> WriteOnlyCell:
        c = WriteOnlyCell(self.ws)
        set_cell(c, value, currency)
        if font is not None:
            c.font = font
        if fill is not None:
            c.fill = fill
        if number_format is not None and not isinstance(c.value, str):
            c.number_format = number_format
        return c

    def append(self, cells: Sequence[Any]) -> int:
        self.ws.append(list(cells))
        self.row += 1
        return self.row

    def blank(self, n: int = 1) -> None:
        for _ in range(n):
            self.append([])

    def title(self, text: str, subtitle: str) -> None:
        self.append([self.cell(text, font=TITLE_FONT)])
        self.append([self.cell(subtitle, font=NOTE_FONT)])
        self.blank()

    def note(self, text: str, col: int = 1) -> None:
        self.append([None] * (col - 1) + [self.cell(text, font=NOTE_FONT)])

    def header(self, columns: Sequence[Column], first_col: int = 1) -> int:
        cells = []
        for c in columns:
            cell = self.cell(c.header, font=HEADER_FONT, fill=HEADER_FILL)
            cell.alignment = HEADER_ALIGNMENT
            cells.append(cell)
        lines = 1
        for i, c in enumerate(columns, start=first_col):
            width = self.ws.column_dimensions[get_column_letter(i)].width or 10
            lines = max(lines, _wrapped_lines(c.header, int(width) - 1))
        if lines > 1:   # write-only: a row's height must be known before the row is written
            self.ws.row_dimensions[self.row + 1].height = 13 * lines + 2
        row = self.append([None] * (first_col - 1) + cells)
        return row

    def data_row(self, columns: Sequence[Column], values: Sequence[Any], *, first_col: int = 1,
                 font: Font | None = None, hashed: bool = True) -> int:
        if hashed:
            self.digest.row(values)
        cells: list[Any] = [None] * (first_col - 1)
        for col, value in zip(columns, values):
            currency = values[col.currency_from] if col.currency_from is not None else None
            if value is None:
                cells.append(None)
            elif col.kind == "rate":
                cells.append(self.cell(value, font=font, number_format=RATE_FORMAT))
            elif col.kind == "number":
                cells.append(self.cell(value, font=font, number_format="0.00##"))
            elif col.kind == "money":
                cells.append(self.cell(value if isinstance(value, Decimal) else Decimal(str(value)),
                                       font=font, currency=currency))
            elif col.kind == "text":
                text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
                # a plain string needs no cell object (the common case, and the costly one at
                # 200,000 rows); one that could be read as a formula goes through set_cell
                plain = font is None and text[:1] not in FORMULA_STARTS
                cells.append(text if plain else self.cell(text, font=font))
            elif col.kind == "count" and font is None and isinstance(value, int):
                cells.append(value)
            else:
                cells.append(self.cell(value, font=font))
        return self.append(cells)

    def table(self, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *, filter_: bool = False,
              repeat_header: bool = False, first_col: int = 1) -> tuple[int, int]:
        """A header row and its data rows; returns (header row, last row)."""
        top = self.header(columns, first_col)
        last = top
        for values in rows:
            last = self.data_row(columns, values, first_col=first_col)
        if filter_:
            self.filter_ref = (f"{get_column_letter(first_col)}{top}:"
                               f"{get_column_letter(first_col + len(columns) - 1)}{max(last, top + 1)}")
        if repeat_header and self.print_rows is None:
            self.print_rows = f"{top}:{top}"
        return top, last

    def finish(self, *, landscape: bool = True) -> None:
        """Filters and print set-up: landscape, fit to one page wide, header rows repeated."""
        ws = self.ws
        if self.filter_ref:
            ws.auto_filter.ref = self.filter_ref
        ws.page_setup.orientation = "landscape" if landscape else "portrait"
        # A4; a list wider than ~200 characters prints on A3 so it stays legible at page width
        ws.page_setup.paperSize = "8" if self.total_width > A4_MAX_WIDTH else "9"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.print_options.gridLines = False
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.5
        ws.oddFooter.center.text = "&A — page &P of &N"
        if self.print_rows:
            ws.print_title_rows = self.print_rows


def _wrapped_lines(text: str, width: int) -> int:
    lines, current = 1, 0
    for word in text.split():
        if current and current + 1 + len(word) > width:
            lines, current = lines + 1, len(word)
        else:
            current = current + (1 if current else 0) + len(word)
    return lines


def column_widths_sql(wh, sql: str, params: Sequence[Any], columns: Sequence[Column]) -> None:
    """Measure a streamed query's columns in the warehouse (max text length, max amount)."""
    names = [d for d in wh.column_names(sql, params)]
    parts = []
    for name, col in zip(names, columns):
        if col.kind == "money":
            parts.append(f'max(abs("{name}"))')
        else:
            parts.append(f'max(length(cast("{name}" as varchar)))')
    if not parts:
        return
    row = wh.fetchone(f"select {', '.join(parts)} from ({sql}) as measured", params)
    if not row:
        return
    for col, value in zip(columns, row):
        if value is None:
            continue
        if col.kind == "money":
            col.fit(display_length("money", value))
        elif col.kind in ("date", "datetime", "rate"):
            col.fit(display_length(col.kind, 0))
        else:
            col.fit(int(value))
