"""The close pack of a generated week, read back with openpyxl as a finance reviewer reads it:
every sheet opens, the figures tie across sheets and with the warehouse, the statement
movements are the statements', and the bank-to-books proof leaves nothing unexplained."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from recon_pipeline.reports.close_pack import SHEETS
from tests.reports.read_pack import money, open_pack, table


def _pack(week, cycle):
    return open_pack(week.home.settings().close_pack_path(cycle))


def _warehouse_open_exceptions(week, cycle):
    with week.home.warehouse() as wh:
        count, amount = wh.fetchone(
            "select count(*), coalesce(sum(amount_at_stake), 0) from marts.rpt_exceptions "
            "where pay_cycle = ? and status = 'open'", (dt.date.fromisoformat(cycle),))
        raw = wh.fetchone("select count(*) from marts.fct_exceptions where pay_cycle = ? and status = 'open'",
                          (dt.date.fromisoformat(cycle),))[0]
    assert raw == count       # rpt_exceptions neither loses nor repeats an exception
    return count, money(amount)


def test_every_sheet_opens_with_a_header_and_rows(pack_week):
    for cycle in pack_week.cycles:
        wb = _pack(pack_week, cycle)
        assert tuple(wb.sheetnames) == SHEETS
        for ws in wb:
            assert ws.max_row >= 5, ws.title
            assert ws["A1"].value and cycle in ws["A1"].value


def test_open_exception_count_and_amount_tie_on_summary_exceptions_sign_off_and_warehouse(pack_week):
    for cycle in pack_week.cycles:
        wb = _pack(pack_week, cycle)
        count, amount = _warehouse_open_exceptions(pack_week, cycle)
        summary = table(wb["Summary"], "Account")           # status table first ...
        accounts = [r for r in table_after(wb["Summary"], "Payments in (count)")]
        assert {r["Account"] for r in summary} == {r["Account"] for r in accounts}
        assert sum(r["Open exceptions"] for r in accounts) == count
        assert sum(money(r["Open exceptions at stake"]) for r in accounts) == amount

        listed = [r for r in table(wb["Exceptions"], "Exception id") if r["Status"] == "open"]
        assert len(listed) == count
        assert sum(money(r["Amount at stake"]) for r in listed) == amount
        totals = [r for r in table(wb["Exceptions"], "Team", first_col=5) if r["Team"] == "All teams"]
        assert sum(r["Open exceptions"] for r in totals) == count
        assert sum(money(r["Amount at stake"]) for r in totals) == amount

        facts = {r["Fact"]: r["Value"] for r in table(wb["Sign-off"], "Fact")}
        assert facts["Open exceptions"] == count
        assert sum(money(v) for k, v in facts.items() if k.startswith("Open exceptions at stake (")) == amount


def table_after(ws, header_in_row: str):
    """The per-account table of the Summary sheet (its header row contains ``header_in_row``)."""
    rows = list(ws.iter_rows(values_only=True))
    for i, row in enumerate(rows):
        if header_in_row in row:
            for data in rows[i + 1:]:
                if data[1] is None:       # a blank row, or the note under the table
                    return
                yield dict(zip(row, data))
    raise AssertionError(f"no table with {header_in_row!r}")


def test_summary_amounts_per_status_are_signed_and_tie_to_the_warehouse(pack_week):
    cycle = pack_week.cycles[-1]
    wb = _pack(pack_week, cycle)
    with pack_week.home.warehouse() as wh:
        lines = {(r[0], r[1]): money(r[2]) for r in wh.fetchall(
            "select account_iban, recon_status, sum(amount) from marts.fct_bank_line_reconciliation "
            "where pay_cycle = ? group by 1, 2", (dt.date.fromisoformat(cycle),))}
    rows = [r for r in table(wb["Summary"], "Account") if r["Side"] == "Bank lines"]
    assert rows
    for r in rows:
        for status in ("unmatched", "matched", "partial_match", "exception", "resolved"):
            assert money(r[f"{status} (amount)"]) == lines.get((r["Account"], status), Decimal("0.00"))
    assert any(money(r["matched (amount)"]) < 0 for r in rows)     # debits stay negative


def test_statement_movements_on_the_balance_proof_equal_the_statement_files(pack_week):
    home = pack_week.home
    inspected = {}
    for path in sorted(home.inbox_statements.iterdir()):
        proc = home.run("inspect", "--json", str(path), check=False)
        if proc.returncode == 0:
            for s in json.loads(proc.stdout)["statements"]:
                inspected[(s["account"], path.name)] = s
    compared = 0
    for cycle in pack_week.cycles:
        for row in table(_pack(pack_week, cycle)["Balance proof"], "Account"):
            if "File" not in row:
                break
            statement = inspected[(row["Account"], row["File"])]
            assert money(row["Movements"]) == money(statement["movements"])
            assert money(row["Opening balance"]) == money(statement["opening_balance"])
            assert money(row["Closing balance"]) == money(statement["closing_balance"])
            compared += 1
    assert compared >= 2 * len(pack_week.cycles)


def _proof(ws) -> dict[tuple[str, str], dict]:
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[:3] == ("Account", "Currency", "Line"))
    out = {}
    for r in rows[start + 1:]:
        if r[0] is None:
            break
        out[(r[0], r[2])] = {"amount": r[3], "note": r[4]}
    return out


def test_unexplained_difference_is_zero_on_every_generated_cycle(pack_week):
    with pack_week.home.warehouse() as wh:
        rows = wh.fetch_dicts("select pay_cycle, account_iban, statement_status, unexplained_difference, "
                              "bank_movements, books_movements from marts.rpt_close_summary")
    assert rows and all(r["statement_status"] == "balanced" for r in rows)
    assert all(r["unexplained_difference"] == 0 for r in rows), rows
    assert any(r["bank_movements"] != r["books_movements"] for r in rows)   # there was something to explain
    for cycle in pack_week.cycles:
        proof = _proof(_pack(pack_week, cycle)["Balance proof"])
        unexplained = [v for (acct, line), v in proof.items() if line == "Unexplained difference"]
        assert unexplained and all(v["amount"] == 0 and v["note"].startswith("OK") for v in unexplained)


def test_the_proof_lines_add_up_on_the_sheet(pack_week):
    proof = _proof(_pack(pack_week, pack_week.cycles[-1])["Balance proof"])
    accounts = {acct for acct, _ in proof}
    items = ["Fees on links (bank − books)", "Amount mismatches on links (bank − books)", "Returns booked by the bank",
             "Open items of earlier cycles settled: our payments", "Open items of earlier cycles settled: bank lines",
             "In flight: bank lines not yet in our books", "In flight: our payments not yet at the bank",
             "Missing in books (flagged or closed bank lines)", "Missing in bank (flagged or closed payments)",
             "Adjustments (in our books only)"]
    for acct in accounts:
        def v(line):
            return money(proof[(acct, line)]["amount"])  # noqa: B023 - used within the iteration
        assert v("Statement movements (bank)") - v("Books movements") == v("Difference (bank − books)")
        assert v("Difference (bank − books)") - sum(v(i) for i in items) == v("Unexplained difference") == 0


def test_exception_rows_show_the_amount_at_stake_and_both_sides_from_any_cycle(pack_week):
    rows = table(_pack(pack_week, pack_week.cycles[-1])["Exceptions"], "Exception id")
    assert rows
    for r in rows:
        assert isinstance(r["Exception id"], str) and r["Action"] is None and r["Reason"] is None
        if r["Bank line id"]:
            assert r["Bank reference"] and r["Bank amount"] is not None and r["Booking date"] is not None, r
        if r["Payment id"]:
            assert r["Our amount"] is not None, r
        if r["Type"] == "missing_in_bank":
            assert r["Our counterparty"], r
    fees = [r for r in rows if r["Type"] == "probable_fee"]
    assert fees
    for r in fees:
        assert 0 < r["Amount at stake"] <= 50 < abs(r["Our amount"])
        assert money(r["Amount at stake"]) == abs(money(r["Bank amount"]) - money(r["Our amount"]))


def test_data_quality_counts_are_this_cycles_own(pack_week):
    measures = []
    for cycle in pack_week.cycles:
        rows = table(_pack(pack_week, cycle)["Data quality"], "Measure (this pay cycle)")
        measures.append({r["Measure (this pay cycle)"]: r["Value"] for r in rows})
    sent = [m["Payments sent in this cycle"] for m in measures]
    with pack_week.home.warehouse() as wh:
        expected = [wh.fetchone("select count(*) from marts.fct_payment_reconciliation "
                                "where pay_cycle = ? and sent_cycle = ?", (dt.date.fromisoformat(c),) * 2)[0]
                    for c in pack_week.cycles]
    assert sent == expected
    assert len({m["Bank lines booked in this cycle (each counted once)"] for m in measures} | set(sent)) > 1


def test_the_pack_is_formatted_for_screen_and_paper(pack_week):
    wb = _pack(pack_week, pack_week.cycles[-1])
    for name in SHEETS:
        ws = wb[name]
        assert ws.page_setup.orientation == ("portrait" if name == "Sign-off" else "landscape")
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows
    for name in ("Summary", "Exceptions", "Matches", "Open items", "Balance proof", "Data quality"):
        assert wb[name].auto_filter.ref and wb[name].freeze_panes, name
    ex = wb["Exceptions"]
    header = [c.value for c in ex[4]]
    listed = table(ex, "Exception id")
    for col_name in ("Exception id", "Type", "Account", "Bank line id", "Payment id", "Bank reference"):
        letter = ex.cell(row=4, column=header.index(col_name) + 1).column_letter
        longest = max(len(str(r[col_name] or "")) for r in listed)
        assert ex.column_dimensions[letter].width >= longest, col_name      # ids are never cut off
    amount = ex.cell(row=5, column=header.index("Amount at stake") + 1)
    assert '"EUR"' in amount.number_format


@pytest.mark.parametrize("sheet", ["Summary"])
def test_summary_has_native_charts(pack_week, sheet):
    import zipfile

    with zipfile.ZipFile(pack_week.home.settings().close_pack_path(pack_week.cycles[-1])) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3


def test_unmatched_counts_and_amounts_on_the_summary_tie_to_the_open_items_sheet(pack_week):
    for cycle in pack_week.cycles:
        wb = _pack(pack_week, cycle)
        open_items = table(wb["Open items"], "Side")
        for row in table(wb["Summary"], "Account"):
            side = "payment" if row["Side"] == "Our payments" else "bank line"
            items = [r for r in open_items if r["Side"] == side and r["Account"] == row["Account"]]
            assert len(items) == row["unmatched (count)"]
            assert sum(money(r["Amount"]) for r in items) == money(row["unmatched (amount)"])
