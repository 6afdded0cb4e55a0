"""A generated week through `recon run`, checked against the generator's truth.

The read-only checks share one built week; the re-runs that must change nothing and the
operator decisions that do change it each work on their own copy (``own_week``), so the
tests pass in any order.
"""
from __future__ import annotations

import datetime as dt
import shutil

from openpyxl import load_workbook

from recon_pipeline.scenario.evaluate import evaluate
from tests.e2e.conftest import mart_snapshot
from tests.e2e.money_checks import (
    assert_marts_tie_to_truth,
    assert_missing_in_bank_ties_to_truth,
    assert_money_columns_are_decimal,
    assert_pack_exceptions_tie_to_warehouse,
)

SHEETS = ["Summary", "Balance proof", "Exceptions", "Matches", "Open items", "Data quality", "Sign-off"]


def test_run_exits_zero_and_reports_every_cycle_with_its_close_pack(built_week):
    out = built_week.first_run.stdout
    for cycle in built_week.cycles:
        assert f"cycle {cycle}:" in out
        assert built_week.home.settings().close_pack_path(cycle).is_file()
    assert "Dagster UI" in out


def test_links_and_end_states_match_the_generator_truth(built_week):
    with built_week.home.warehouse() as wh:
        result = evaluate(wh, built_week.truth)
    assert result.precision == 1.0 and result.recall == 1.0, result.describe()
    assert not result.status_mismatches, result.describe()


def test_money_is_decimal_in_the_marts_and_ties_to_the_truth_to_the_cent(built_week):
    home = built_week.home
    with home.warehouse() as wh:
        assert_money_columns_are_decimal(wh)
        assert_marts_tie_to_truth(wh, built_week.truth)
        assert_missing_in_bank_ties_to_truth(wh, built_week.truth)
        for cycle in built_week.cycles:
            assert_pack_exceptions_tie_to_warehouse(home.settings().close_pack_path(cycle), wh,
                                                    dt.date.fromisoformat(cycle))


def test_every_discrepancy_kind_is_reported_not_silently_matched(built_week):
    kinds_with_exceptions = {p["expected_exception_type"] for p in built_week.truth["payments"]} | \
                            {b["expected_exception_type"] for b in built_week.truth["bank_lines"]}
    kinds_with_exceptions.discard(None)
    with built_week.home.warehouse() as wh:
        seen = {r[0] for r in wh.fetchall("select distinct exception_type from marts.fct_exceptions")}
    assert kinds_with_exceptions <= seen


def test_close_packs_open_in_excel_with_every_sheet_and_the_marts_numbers(built_week):
    home = built_week.home
    for cycle in built_week.cycles:
        wb = load_workbook(home.settings().close_pack_path(cycle))
        assert wb.sheetnames == SHEETS
        summary = wb["Summary"]
        headers = [c.value for c in summary[4]]
        rows = []
        for r in summary.iter_rows(min_row=5):      # the status table ends at the first blank row
            if not r[0].value:
                break
            rows.append([c.value for c in r])
        with home.warehouse() as wh:
            marts = {r["account_iban"]: r for r in wh.fetch_dicts(
                "select * from marts.rpt_close_summary where pay_cycle = ?", (dt.date.fromisoformat(cycle),))}
        assert {r[0] for r in rows} == set(marts)
        for row in rows:
            mart = marts[row[0]]
            prefix = "payments" if row[2] == "Our payments" else "bank_lines"
            assert row[headers.index("matched (count)")] == mart[f"{prefix}_matched_count"]
            assert row[headers.index("exception (count)")] == mart[f"{prefix}_exception_count"]
        exceptions = wb["Exceptions"]
        with home.warehouse() as wh:
            count = wh.fetchone("select count(*) from marts.fct_exceptions where pay_cycle = ?",
                                (dt.date.fromisoformat(cycle),))[0]
        assert sum(1 for r in exceptions.iter_rows(min_row=5) if r[0].value) == count


def test_poisoned_input_is_quarantined_with_its_bytes_and_reason_and_counted(built_week):
    home = built_week.home
    with home.warehouse() as wh:
        files = wh.fetch_dicts("select original_name, reason, raw_bytes, size_bytes from raw.quarantine_statement_files")
        events = wh.fetch_dicts("select message_key, reason, raw_value from raw.quarantine_events")
        loaded_events = wh.fetchone("select count(*) from raw.payment_events")[0]
    assert [f["original_name"] for f in files] == [p.name for p in home.inbox_statements.glob("broken_*")]
    broken = next(home.inbox_statements.glob("broken_*"))
    assert bytes(files[0]["raw_bytes"]) == broken.read_bytes() and files[0]["reason"]
    assert len(events) == built_week.truth["poison"]["events"]
    assert all(e["reason"] and "\n" not in e["reason"] and e["raw_value"] for e in events)
    # counts in = counts landed + counts quarantined
    lines_in = 0
    import gzip
    for path in home.inbox_events.iterdir():
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as fh:
            lines_in += sum(1 for line in fh if line.strip())
    assert lines_in == loaded_events + len(events)
    wb = load_workbook(home.settings().close_pack_path(built_week.cycles[-1]))
    dq_text = " ".join(str(c.value) for row in wb["Data quality"].iter_rows() for c in row if c.value)
    assert broken.name in dq_text


def test_rebuilding_a_cycle_and_then_the_later_ones_gives_identical_marts(own_week):
    home = own_week.home
    before = mart_snapshot(home)
    home.run("run", "--cycle", own_week.cycles[1])
    assert mart_snapshot(home) == before
    home.run("run", "--through", own_week.cycles[-1])
    assert mart_snapshot(home) == before


def test_redelivered_files_under_new_names_change_nothing(own_week):
    home = own_week.home
    before = mart_snapshot(home)
    for folder in (home.inbox_statements, home.inbox_events):
        for path in sorted(folder.iterdir()):
            shutil.copy2(path, folder / f"redelivered_{path.name}")
    proc = home.run("run", "--through", own_week.cycles[-1])
    assert "picked up 0 new statement file(s), 0 new event file(s)" in proc.stdout
    assert mart_snapshot(home) == before


def test_an_operator_resolution_is_appended_and_shows_as_resolved(own_week):
    home = own_week.home
    last = dt.date.fromisoformat(own_week.cycles[-1])
    with home.warehouse() as wh:
        exc = wh.fetch_dicts("select exception_id, payment_id from marts.fct_exceptions "
                             "where pay_cycle = ? and status = 'open' and exception_type = 'missing_in_bank' "
                             "order by exception_id limit 1", (last,))[0]
    home.run("resolve", exc["exception_id"], "--action", "accept", "--reason", "written off: beneficiary bank closed",
             "--by", "alice")
    with home.warehouse() as wh:
        row = wh.fetch_dicts("select status, resolution, resolved_by, reason from marts.fct_exceptions "
                             "where exception_id = ? and pay_cycle = ?", (exc["exception_id"], last))[0]
        payment = wh.fetch_dicts("select recon_status from marts.fct_payment_reconciliation "
                                 "where payment_id = ? and pay_cycle = ?", (exc["payment_id"], last))[0]
        log = wh.fetchone("select count(*) from ops.exception_resolutions where exception_id = ?",
                          (exc["exception_id"],))[0]
    assert row == {"status": "resolved", "resolution": "accept", "resolved_by": "alice",
                   "reason": "written off: beneficiary bank closed"}
    assert payment["recon_status"] == "resolved"
    assert log == 1
    again = home.run("resolve", exc["exception_id"], "--action", "accept", "--reason", "again", "--by", "bob",
                     check=False)
    assert again.returncode == 1 and "already resolved" in again.stderr
