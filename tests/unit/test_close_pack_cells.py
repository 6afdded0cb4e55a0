"""The close pack writes outside text as text: a name that looks like a formula stays a name,
and an amount is stored as the decimal it is, to the cent."""
from __future__ import annotations

import zipfile
from decimal import Decimal

from openpyxl import Workbook, load_workbook

from recon_pipeline.reports.close_pack import set_cell
from tests.money import cell_decimal


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path):
    wb = Workbook()
    ws = wb.active
    hostile = ['=HYPERLINK("http://evil.example","click")', "+31 20 555", "-1+1", "@SUM(A1)", "ACME B.V."]
    for row, text in enumerate(hostile, start=1):
        set_cell(ws.cell(row=row, column=1), text)
    set_cell(ws.cell(row=1, column=2), Decimal("1234.50"))
    set_cell(ws.cell(row=2, column=2), Decimal("0.10") + Decimal("0.20"))
    path = tmp_path / "pack.xlsx"
    wb.save(path)
    back = load_workbook(path)
    ws = back.active
    for row, text in enumerate(hostile, start=1):
        cell = ws.cell(row=row, column=1)
        assert cell.value == text and cell.data_type == "s"
    assert cell_decimal(ws.cell(row=1, column=2).value) == Decimal("1234.50")
    assert cell_decimal(ws.cell(row=2, column=2).value) == Decimal("0.30")
    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>0.30</v>" in sheet_xml or "<v>0.3</v>" in sheet_xml    # the decimal, not float noise
    assert ws.cell(row=1, column=2).number_format.startswith("#,##0.00")
