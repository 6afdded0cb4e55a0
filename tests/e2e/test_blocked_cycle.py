"""A blocking data-quality failure stops that cycle only: the others are built, the user is told."""
from __future__ import annotations

import datetime as dt
import json

from recon_pipeline.scenario.generator import generate_scenario
from tests.e2e.conftest import deliver, make_home


def test_a_cycle_with_a_bad_currency_is_blocked_and_the_others_go_on(tmp_path):
    scenario = generate_scenario(tmp_path / "scenario", start=dt.date(2026, 11, 9), days=3,
                                 payments_per_day=6, seed=5)
    home = make_home(tmp_path)
    deliver(tmp_path / "scenario", home)
    bad = {"event_id": "evt-bad-currency", "event_type": "payment.sent", "occurred_at": "2026-11-10T10:00:00Z",
           "payment_id": "PAY-BAD-1", "end_to_end_id": "E2E-BAD-1", "amount": "12.00", "currency": "EUX",
           "direction": "outgoing", "account_iban": scenario.truth["accounts"][0]["iban"]}
    (home.inbox_events / "late_delivery.jsonl").write_text(json.dumps(bad) + "\n")

    proc = home.run("run", "--through", "2026-11-11", check=False)

    assert proc.returncode == 1
    reason = proc.stderr.strip()
    assert len(reason.splitlines()) == 1 and "2026-11-10" in reason and "blocked" in reason
    assert "cycle 2026-11-10: BLOCKED" in proc.stdout
    settings = home.settings()
    assert settings.close_pack_path("2026-11-09").is_file()
    assert settings.close_pack_path("2026-11-11").is_file()
    assert not settings.close_pack_path("2026-11-10").exists()
    with home.warehouse() as wh:
        evidence = wh.fetchall("select evidence from dq.check_results where pay_cycle = ? "
                               "and severity = 'blocking' and not passed", (dt.date(2026, 11, 10),))
    assert any("evt-bad-currency" in str(e[0]) for e in evidence)
