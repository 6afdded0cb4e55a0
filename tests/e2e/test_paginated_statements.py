"""A statement too big for one message comes in pages, and the pages prove the balance together.

Banks split a big day into pages (camt GrpHdr/MsgPgntn; MT940 :28C: statement/page), each a file
of its own whose interim balances chain (camt ITBD, MT940 :60M:/:62M:): page 1 opens the day,
each page opens where the one before closed, the last closes the day. Every page carries the
same dates, so which page opens and which closes the cycle can only come from that chain. Before,
the close summary picked them by file hash ("balance proof BROKEN" on every paginated account-day)
and the gate warned that a later page did not continue the day before.
"""
from __future__ import annotations

import datetime as dt

import duckdb

from recon_pipeline.scenario import statements as scenario_statements
from recon_pipeline.scenario.evaluate import evaluate
from recon_pipeline.scenario.generator import generate_scenario
from recon_pipeline.warehouse.connection import Warehouse
from tests.e2e.conftest import deliver, make_home


def test_statements_in_pages_prove_the_balance_continue_the_day_before_and_reconcile(tmp_path, monkeypatch):
    monkeypatch.setattr(scenario_statements, "PAGE_ENTRIES", 30)  # a bank's page limit, scaled down
    scenario = generate_scenario(tmp_path / "scenario", start=dt.date(2026, 11, 2), days=2,
                                 payments_per_day=150, seed=3)
    files = sorted(p.name for p in (tmp_path / "scenario" / "statements").iterdir())
    assert any(name.endswith("_p003.xml") for name in files) and any(name.endswith("_p003.sta") for name in files)
    home = make_home(tmp_path)
    deliver(tmp_path / "scenario", home)

    run = home.run("run", "--through", scenario.cycles[-1].isoformat())

    summaries = [line for line in run.stdout.splitlines() if line.startswith("cycle ")]
    assert len(summaries) == 2 and all("balance proof OK" in line for line in summaries), run.stdout[-2000:]
    con = duckdb.connect(str(home.home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("select pay_cycle, account_iban, statement_count, opening_balance, closing_balance, "
                           "balance_proof_ok from marts.rpt_close_summary order by account_iban, pay_cycle").fetchall()
        assert all(r[2] >= 2 and r[5] for r in rows), rows
        for day_one, day_two in zip(rows[::2], rows[1::2]):
            assert day_two[3] == day_one[4]  # day 2's first page opens where day 1's last page closed
        truth_accounts = {a["iban"]: a for a in scenario.truth["accounts"]}
        for r in rows[1::2]:
            assert f"{r[4]:.2f}" == f"{float(truth_accounts[r[1]]['closing_balance']):.2f}"
        assert con.execute("select pay_cycle, check_name from dq.check_results where not passed").fetchall() == []
        quality = evaluate(Warehouse("duckdb", con, "paginated"), scenario.truth)
        assert (quality.precision, quality.recall, quality.status_mismatches) == (1.0, 1.0, [])
    finally:
        con.close()
