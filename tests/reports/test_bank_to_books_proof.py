"""The bank-to-books proof catches what a reconciliation must never do silently: lose a bank
line or count one twice. Each test damages a COPY of a built week's warehouse, recomputes the
proof for the last cycle with dbt, and reads the result in the marts and in a re-written pack."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from recon_pipeline.pipeline import proof_phrase
from recon_pipeline.reports.close_pack import write_close_pack
from recon_pipeline.warehouse.connection import open_warehouse
from tests.reports.read_pack import open_pack, table


def _last(week):
    return week.cycles[-1]


def _summary(copy, cycle):
    with open_warehouse(copy.home.settings(), read_only=True) as wh:
        return {r["account_iban"]: r for r in wh.fetch_dicts(
            "select * from marts.rpt_close_summary where pay_cycle = ?", (dt.date.fromisoformat(cycle),))}


def _a_line_booked_in(copy, cycle, linked: bool):
    """A bank line booked in the cycle, linked (or not, when the cycle has one) in it."""
    with open_warehouse(copy.home.settings(), read_only=True) as wh:
        lines = wh.fetch_dicts("""
            select bank_line_id, account_iban, amount, match_id from marts.fct_bank_line_reconciliation
            where pay_cycle = ? and booking_date = ? order by bank_line_id""", (dt.date.fromisoformat(cycle),) * 2)
    wanted = [r for r in lines if (r["match_id"] is not None) == linked]
    return (wanted or lines)[0]


def test_the_copy_balances_before_it_is_damaged(pack_week, warehouse_copy):
    cycle = _last(pack_week)
    warehouse_copy.recompute_proof(cycle)
    assert all(r["unexplained_difference"] == 0 for r in _summary(warehouse_copy, cycle).values())


def test_a_bank_line_dropped_from_the_marts_leaves_an_unexplained_difference(pack_week, warehouse_copy, tmp_path):
    cycle = _last(pack_week)
    line = _a_line_booked_in(warehouse_copy, cycle, linked=True)
    with open_warehouse(warehouse_copy.home.settings()) as wh:
        wh.execute("delete from marts.fct_bank_line_reconciliation where pay_cycle = ? and bank_line_id = ?",
                   (dt.date.fromisoformat(cycle), line["bank_line_id"]))
    warehouse_copy.recompute_proof(cycle)
    summary = _summary(warehouse_copy, cycle)
    damaged = summary[line["account_iban"]]
    assert damaged["unexplained_difference"] == line["amount"]
    assert damaged["bank_to_books_ok"] is False
    assert "UNEXPLAINED" in proof_phrase(list(summary.values()))

    with open_warehouse(warehouse_copy.home.settings(), read_only=True) as wh:
        write_close_pack(wh, cycle, tmp_path / "pack.xlsx")
    wb = open_pack(tmp_path / "pack.xlsx")
    proof = [r for r in table(wb["Balance proof"], "Account") if r.get("Line") == "Unexplained difference"]
    if not proof:   # the statements table comes first; the proof is the second table headed "Account"
        rows = list(wb["Balance proof"].iter_rows(values_only=True))
        proof = [dict(zip(("Account", "Currency", "Line", "Amount", "Note"), r)) for r in rows
                 if r[2] == "Unexplained difference"]
    bad = [r for r in proof if r["Account"] == line["account_iban"]]
    assert Decimal(str(bad[0]["Amount"])) == line["amount"] and bad[0]["Note"].startswith("NOT EXPLAINED")
    facts = {r["Fact"]: r["Value"] for r in table(wb["Sign-off"], "Fact")}
    assert line["account_iban"] in facts["Accounts with an unexplained bank-to-books difference"]


def test_a_bank_line_counted_twice_in_the_marts_leaves_an_unexplained_difference(pack_week, warehouse_copy):
    cycle = _last(pack_week)
    line = _a_line_booked_in(warehouse_copy, cycle, linked=False)
    with open_warehouse(warehouse_copy.home.settings()) as wh:
        wh.execute("insert into marts.fct_bank_line_reconciliation select * from marts.fct_bank_line_reconciliation "
                   "where pay_cycle = ? and bank_line_id = ?", (dt.date.fromisoformat(cycle), line["bank_line_id"]))
    warehouse_copy.recompute_proof(cycle)
    damaged = _summary(warehouse_copy, cycle)[line["account_iban"]]
    assert damaged["unexplained_difference"] == -line["amount"]


def test_an_account_without_a_statement_says_so_and_is_never_ok(pack_week, warehouse_copy, tmp_path):
    cycle = _last(pack_week)
    with open_warehouse(warehouse_copy.home.settings()) as wh:
        account = wh.fetchone("select min(account_iban) from staging.stg_statements where pay_cycle = ?",
                              (dt.date.fromisoformat(cycle),))[0]
        wh.execute("delete from raw.statements where account_iban = ? and coalesce(closing_date, opening_date) = ?",
                   (account, dt.date.fromisoformat(cycle)))
    warehouse_copy.recompute_proof(cycle)
    summary = _summary(warehouse_copy, cycle)
    row = summary[account]
    assert row["statement_status"] == "no statement"
    assert row["balance_proof_ok"] is None and row["bank_to_books_ok"] is None and row["unexplained_difference"] is None
    phrase = proof_phrase(list(summary.values()))
    assert "balance proof OK" not in phrase and f"no statement (no balance proof) for {account}" in phrase

    with open_warehouse(warehouse_copy.home.settings(), read_only=True) as wh:
        write_close_pack(wh, cycle, tmp_path / "pack.xlsx")
    wb = open_pack(tmp_path / "pack.xlsx")
    rows = list(wb["Balance proof"].iter_rows(values_only=True))
    notes = [r[4] for r in rows if r[0] == account and r[2] in ("Statement movements (bank)", "Unexplained difference")]
    assert notes and all("no statement" in n for n in notes)
    accounts = list(_summary_accounts(wb))
    assert [a["Statement"] for a in accounts if a["Account"] == account] == ["no statement"]


def _summary_accounts(wb):
    rows = list(wb["Summary"].iter_rows(values_only=True))
    for i, row in enumerate(rows):
        if "Payments in (count)" in row:
            for data in rows[i + 1:]:
                if data[0] is None:
                    return
                yield dict(zip(row, data))


def test_an_adjustment_is_a_reconciling_item_of_its_effective_cycle(pack_week, warehouse_copy):
    cycle = _last(pack_week)
    day = dt.date.fromisoformat(cycle)
    with open_warehouse(warehouse_copy.home.settings()) as wh:
        fee = wh.fetch_dicts("select exception_id, account_iban, amount_difference from marts.fct_exceptions "
                             "where pay_cycle = ? and exception_type = 'probable_fee' and status = 'open' "
                             "order by exception_id limit 1", (day,))[0]
        wh.execute("insert into ops.exception_resolutions (resolution_id, exception_id, action, reason, resolved_by, "
                   "resolved_at, effective_cycle, adjustment_amount, adjustment_account) "
                   "values ('res_test_adjust', ?, 'adjust', 'bank charge booked', 'alice', ?, ?, ?, 'bank charges')",
                   (fee["exception_id"], dt.datetime.combine(day, dt.time(12)), day, -abs(fee["amount_difference"])))
    warehouse_copy.dbt(cycle, "build", "--exclude-resource-type", "unit_test")
    row = _summary(warehouse_copy, cycle)[fee["account_iban"]]
    assert row["books_adjustments"] == -abs(fee["amount_difference"])
    assert row["adjustments_amount"] == abs(fee["amount_difference"])
    assert row["unexplained_difference"] == 0
