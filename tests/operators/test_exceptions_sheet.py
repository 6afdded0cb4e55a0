"""Reading finance's decisions from a close pack's exceptions sheet: found by its header names
wherever the pack puts them, only rows with an Action count, and the pack's pay cycle known."""
from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from recon_pipeline.operators.sheet import read_exceptions_sheet


def _pack(path, header_row: int, headers, rows, title="Close pack 2026-11-13", sheet="Exceptions"):
    wb = Workbook()
    wb.active.title = "Summary"
    wb.properties.title = title
    ws = wb.create_sheet(sheet)
    ws.cell(row=1, column=1, value="Exceptions")
    for col, name in enumerate(headers, start=1):
        ws.cell(row=header_row, column=col, value=name)
    for r, values in enumerate(rows, start=header_row + 1):
        for col, value in enumerate(values, start=1):
            ws.cell(row=r, column=col, value=value)
    wb.save(path)
    return path


def test_decisions_are_read_by_header_name_wherever_the_header_row_is(tmp_path):
    headers = ["Type", "Reason", "Exception id", "Amount", "Status", "Action"]
    path = _pack(tmp_path / "p.xlsx", 7, headers, [
        ["missing_in_bank", " in  transit ", "ex_1", 10, "open", " Timing "],
        ["probable_fee", "", "ex_2", 5, "open", None],          # no Action: not a decision
        ["amount_mismatch", "", "ex_3", 5, "open", "accept"],    # Action without Reason: kept, refused later
    ])
    sheet = read_exceptions_sheet(path)
    assert sheet.pack_cycle == dt.date(2026, 11, 13) and sheet.sheet == "Exceptions"
    assert [(d.exception_id, d.action, d.reason, d.where, d.sheet_status) for d in sheet.decisions] == [
        ("ex_1", "timing", "in transit", "row 8", "open"), ("ex_3", "accept", "", "row 10", "open")]
    assert len(sheet.sha256) == 64


def test_the_pack_cycle_comes_from_the_lines_above_the_header_or_the_file_name(tmp_path):
    headers = ["Exception id", "Status", "Action", "Reason"]
    no_title = _pack(tmp_path / "close_pack_2026-11-12.xlsx", 4, headers, [["ex_1", "open", "accept", "x"]],
                     title="")
    assert read_exceptions_sheet(no_title).pack_cycle == dt.date(2026, 11, 12)
    unknown = _pack(tmp_path / "handed_back.xlsx", 4, headers, [["ex_1", "open", "accept", "x"]], title="")
    with pytest.raises(ValueError, match="cannot tell which pay cycle"):
        read_exceptions_sheet(unknown)


def test_a_workbook_without_the_exceptions_header_is_refused_in_one_line(tmp_path):
    path = _pack(tmp_path / "p.xlsx", 4, ["Exception id", "Status", "Reason"], [["ex_1", "open", "x"]])
    with pytest.raises(ValueError, match="no exceptions sheet: no header row with Exception id, Status, Action"):
        read_exceptions_sheet(path)
    (tmp_path / "not.xlsx").write_bytes(b"plain text")
    with pytest.raises(ValueError, match="is not an Excel workbook"):
        read_exceptions_sheet(tmp_path / "not.xlsx")
