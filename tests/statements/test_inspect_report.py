"""``recon inspect``: the contract's JSON shape, the text form and the exit codes."""
from __future__ import annotations

import json

from recon_pipeline.statements.inspect import inspect_bytes, main, render_text

MT940 = (b":20:S1\n:25:NL91ABNA0417164300\n:28C:1\n:60F:C260101EUR100,00\n"
         b":61:2601020102D30,00NTRFNONREF\n:62F:C260102EUR70,00\n"
         b":20:S2\n:25:NL91ABNA0417164300\n:28C:2\n:60F:C260102EUR70,00\n"
         b":61:2601030103D1,00NTRFNONREF\n:62F:C260103EUR70,00\n")
MT942 = b":20:R\n:25:ACC\n:28C:1\n:34F:EURD0,\n:61:2601020102D1,NTRFNONREF\n"


def test_json_report_has_exactly_the_contract_shape_in_file_order():
    report = inspect_bytes(MT940, "s.sta")
    assert set(report) == {"format", "statements"}
    assert report["format"] == "MT940"
    first, second = report["statements"]
    assert set(first) == {"account", "currency", "opening_balance", "closing_balance", "entries", "movements", "balanced"}
    assert first == {"account": "NL91ABNA0417164300", "currency": "EUR", "opening_balance": "100.00",
                     "closing_balance": "70.00", "entries": 1, "movements": "-30.00", "balanced": True}
    assert second["balanced"] is False
    json.dumps(report)  # serialisable as is: amounts are strings


def test_missing_balances_are_null_and_balanced_unknown():
    (stmt,) = inspect_bytes(MT942, "r.sta")["statements"]
    assert stmt["opening_balance"] is None and stmt["closing_balance"] is None and stmt["balanced"] is None


def test_text_report_shows_one_block_per_statement():
    text = render_text(inspect_bytes(MT940, "s.sta"))
    assert text.count("statement ") == 2
    assert "balanced   yes" in text and "balanced   no" in text and "movements  -30.00" in text


def test_cli_prints_json_and_exits_zero(tmp_path, capsys):
    path = tmp_path / "s.sta"
    path.write_bytes(MT940)
    assert main([str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["statements"][0]["entries"] == 1


def test_cli_reports_unparseable_file_on_stderr_with_exit_one(tmp_path, capsys):
    path = tmp_path / "bad.xml"
    path.write_bytes(b"<Document><BkToCstmrStmt><Stmt>")
    assert main([str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"recon inspect: {path}: ") and captured.err.count("\n") == 1
