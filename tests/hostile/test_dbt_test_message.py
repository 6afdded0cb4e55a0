"""A failing dbt test stops the cycle with one line naming the test and the keys at fault,
never a truncated "dbt CLI process failed" (issue #11 item 4). Real dbt on a DuckDB file."""
from __future__ import annotations

import datetime as dt

from recon_pipeline.scenario.generator import generate_scenario
from recon_pipeline.warehouse.connection import open_warehouse
from tests.e2e.conftest import deliver, make_home


def test_a_cross_account_link_fails_naming_the_dbt_test_and_its_keys(tmp_path):
    day = dt.date(2026, 11, 10)
    generate_scenario(tmp_path / "scenario", start=day, days=1, payments_per_day=5, seed=9)
    home = make_home(tmp_path)
    deliver(tmp_path / "scenario", home)
    home.run("run", "--through", day.isoformat())
    with open_warehouse(home.settings()) as wh:
        payment_id, account = wh.fetchone("select payment_id, account_iban from marts.fct_payment_reconciliation "
                                          "where pay_cycle = ? order by payment_id limit 1", (day,))
        (bank_line_id,) = wh.fetchone("select bank_line_id from marts.fct_bank_line_reconciliation "
                                      "where pay_cycle = ? and account_iban <> ? order by bank_line_id limit 1",
                                      (day, account))
        # What a wrong `recon match` across accounts left in the operator log.
        wh.execute("insert into ops.manual_matches (manual_match_id, payment_id, bank_line_id, reason, "
                   "matched_by, matched_at, effective_cycle) values ('mm_wrong', ?, ?, 'wrong', 'eve', ?, ?)",
                   (payment_id, bank_line_id, dt.datetime(2026, 11, 11, 9), day))

    proc = home.run("run", "--cycle", day.isoformat(), check=False)

    assert proc.returncode == 1
    reason = proc.stderr.strip()
    assert len(reason.splitlines()) == 1
    assert "dbt test assert_links_stay_within_one_account failed on 1 row(s)" in reason
    assert f"payment_id={payment_id}" in reason and f"bank_line_id={bank_line_id}" in reason
