"""A pack finance may already have reviewed is never silently replaced: a rebuild after a
decision is the next version, the previous one stays beside it, and the sign-off says what
changed. Long lists overflow to Parquet; amounts Excel cannot hold are written as text."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import pyarrow.parquet as pq
from openpyxl import Workbook, load_workbook

from recon_pipeline.reports.close_pack import write_close_pack
from recon_pipeline.reports.xlsx import TEXT_AMOUNT_NOTE, set_cell
from recon_pipeline.warehouse.connection import open_warehouse
from tests.e2e.conftest import ReconHome
from tests.reports.read_pack import open_pack, table


def test_rebuilding_the_same_data_keeps_the_version_and_a_decision_makes_the_next_one(pack_week, tmp_path):
    home = ReconHome(tmp_path / "home", {**pack_week.home.env, "RECON_HOME": str(tmp_path / "home")})
    shutil.copytree(pack_week.home.home, home.home, ignore=shutil.ignore_patterns("dagster"))
    cycle = pack_week.cycles[-1]
    pack = home.settings().close_pack_path(cycle)
    with open_warehouse(home.settings(), read_only=True) as wh:
        again = write_close_pack(wh, cycle, pack)
        exc = wh.fetch_dicts("select exception_id from marts.fct_exceptions where pay_cycle = ? and status = 'open' "
                             "and exception_type = 'missing_in_bank' order by exception_id limit 1",
                             (dt.date.fromisoformat(cycle),))[0]["exception_id"]
    assert again.version == 1 and not pack.with_name(f"{pack.stem}.v1.xlsx").exists()
    before = {r["Fact"]: r["Value"] for r in table(open_pack(pack)["Sign-off"], "Fact")}

    home.run("resolve", exc, "--action", "accept", "--reason", "written off", "--by", "alice")

    previous = pack.with_name(f"{pack.stem}.v1.xlsx")
    assert previous.is_file()
    assert {r["Fact"]: r["Value"] for r in table(open_pack(previous)["Sign-off"], "Fact")} == before
    wb = open_pack(pack)
    facts = {r["Fact"]: r["Value"] for r in table(wb["Sign-off"], "Fact")}
    assert facts["Pack version"] == 2
    assert facts["Previous version (kept beside this file)"] == previous.name
    assert facts["Open exceptions"] == before["Open exceptions"] - 1
    assert facts["SHA-256 of the data shown in this pack"] != before["SHA-256 of the data shown in this pack"]
    changes = [r["Changes since the previous version"] for r in table(wb["Sign-off"], "Changes since the previous version")]
    assert f"{exc}: open → resolved (accept by alice)" in changes
    assert f"open exceptions: {before['Open exceptions']} → {facts['Open exceptions']}" in changes
    manifest = json.loads(pack.with_suffix(".json").read_text())
    assert manifest["version"] == 2 and manifest["sha256"] == facts["SHA-256 of the data shown in this pack"]


def test_matches_past_the_sheet_limit_go_to_a_parquet_file_named_on_the_sheet(pack_week, tmp_path):
    cycle = pack_week.cycles[-1]
    with pack_week.home.warehouse() as wh:
        links = wh.fetchone("select count(*) from marts.fct_reconciliation_links where pay_cycle = ?",
                            (dt.date.fromisoformat(cycle),))[0]
        result = write_close_pack(wh, cycle, tmp_path / "pack.xlsx", max_sheet_rows=5)
    parquet = tmp_path / "pack_matches.parquet"
    assert links > 5 and str(parquet) in result.parquet_files
    table_ = pq.read_table(parquet)
    assert table_.num_rows == links
    assert set(table_.column("Match id").to_pylist()) >= {r["Match id"] for r in
                                                          table(open_pack(tmp_path / "pack.xlsx")["Matches"], "Match id")}
    ws = load_workbook(tmp_path / "pack.xlsx")["Matches"]
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert parquet.name in text
    assert len(table(ws, "Match id")) == 5


def test_an_amount_excel_cannot_hold_exactly_is_written_as_text_with_a_note(tmp_path):
    wb = Workbook()
    ws = wb.active
    exact = Decimal("123456789012345.67")          # 17 significant digits
    set_cell(ws["A1"], exact)
    set_cell(ws["A2"], Decimal("1234567890123.45"), "EUR")   # 15: stays a number
    wb.save(tmp_path / "p.xlsx")
    back = load_workbook(tmp_path / "p.xlsx").active
    assert back["A1"].value == "123456789012345.67" and back["A1"].data_type == "s"
    assert back["A1"].comment is not None and back["A1"].comment.text == TEXT_AMOUNT_NOTE
    assert back["A2"].value == 1234567890123.45 and '"EUR"' in back["A2"].number_format
