"""The close pack writes outside text as text: a name that looks like a formula stays a name."""
from __future__ import annotations

from decimal import Decimal

from openpyxl import Workbook, load_workbook

from recon_pipeline.reports.close_pack import set_cell


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path):
    wb = Workbook()
    ws = wb.active
    hostile = ['=HYPERLINK("http://evil.example","click")', "+31 20 555", "-1+1", "@SUM(A1)", "ACME B.V."]
    for row, text in enumerate(hostile, start=1):
        set_cell(ws.cell(row=row, column=1), text)
    set_cell(ws.cell(row=1, column=2), Decimal("1234.50"))
    path = tmp_path / "pack.xlsx"
    wb.save(path)
    back = load_workbook(path)
    ws = back.active
    for row, text in enumerate(hostile, start=1):
        cell = ws.cell(row=row, column=1)
        assert cell.value == text and cell.data_type == "s"
    assert ws.cell(row=1, column=2).value == 1234.5
    assert ws.cell(row=1, column=2).number_format.startswith("#,##0.00")
