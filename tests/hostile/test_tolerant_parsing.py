"""What real banks send is read where it is unambiguous: one malformed field or record is
flagged and the rest of the file loads into the DuckDB warehouse (issue #11, tolerant parsing)."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from recon_pipeline.warehouse.load_statements import load_statement_files
from tests.hostile.conftest import IBAN, camt053, land

SHARED_BAI2 = Path(__file__).resolve().parents[2].parent / "shared" / "statements" / "bai2" / "moov_sample1_cad.bai2"


def _warnings(wh, name: str) -> list[str]:
    (text,) = wh.fetchone("select warnings from raw.statement_files where original_name = ?", (name,))
    return json.loads(text or "[]")


def test_a_date_not_on_the_calendar_quarantines_that_mt940_entry_only(wh, landing):
    mt940 = (f":20:STMT-1\r\n:25:{IBAN}\r\n:28C:1/1\r\n:60F:C261110EUR1000,00\r\n"
             ":61:2611311131C161,40NTRFREF1//BANKREF1\r\n:86:31 November\r\n"
             ":61:2611101110C20,00NTRFREF2//BANKREF2\r\n:86:fine\r\n"
             ":62F:C261110EUR1181,40\r\n-").encode()
    land(landing, "statements", "nov31.sta", mt940)

    result = load_statement_files(wh, landing)

    assert result.files_loaded == 1 and result.lines_quarantined == 1
    (reason,) = wh.fetchone("select reason from raw.quarantine_statement_lines")
    assert "not on the calendar" in reason and "261131" in reason
    assert wh.fetchall("select bank_reference, booking_date, amount from raw.statement_lines") == [
        ("BANKREF2", dt.date(2026, 11, 10), Decimal("20.00000"))]


def test_bai2_without_file_trailer_with_an_unknown_record_and_a_stray_control_loads_with_warnings(wh, landing):
    original = SHARED_BAI2.read_bytes()
    lines = [line for line in original.split(b"\n") if not line.startswith(b"99,")]
    first_detail = next(i for i, line in enumerate(lines) if line.startswith(b"16,"))
    lines.insert(first_detail, b"77,vendor specific/")
    lines[first_detail + 1] = lines[first_detail + 1].replace(b"16,", b"16\x07,", 1)
    land(landing, "statements", "quirky.bai2", b"\n".join(lines))
    land(landing, "statements", "clean.bai2", original)

    result = load_statement_files(wh, landing)

    assert result.files_loaded == 2 and result.files_quarantined == 0
    counts = dict(wh.fetchall("select source_file, count(*) from raw.statement_lines group by source_file"))
    assert counts["quirky.bai2"] == counts["clean.bai2"] > 0
    warnings = " | ".join(_warnings(wh, "quirky.bai2"))
    assert "no 99 file trailer" in warnings and "unknown record type '77'" in warnings
    assert "stray control" in warnings


def test_a_stray_control_character_in_camt_is_removed_not_fatal(wh, landing):
    data = camt053([("5.00", "CRDT", "R1", None)]).replace(b"<Id>MSG-1-S</Id>", b"<Id>MSG-1\x07-S</Id>")
    land(landing, "statements", "bell.xml", data)

    result = load_statement_files(wh, landing)

    assert result.files_loaded == 1
    assert any("stray control" in w for w in _warnings(wh, "bell.xml"))
