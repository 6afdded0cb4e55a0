"""A blocking data-quality failure stops that cycle only: the others are built, the user is told."""
from __future__ import annotations

import datetime as dt
import json

from recon_pipeline.scenario.generator import generate_scenario
from tests.clock import cycle, past_monday
from tests.e2e.conftest import deliver, make_home


def test_a_cycle_with_a_bad_currency_is_blocked_and_the_others_go_on(tmp_path):
    start = past_monday()
    first, blocked, last = cycle(start, 0), cycle(start, 1), cycle(start, 2)
    scenario = generate_scenario(tmp_path / "scenario", start=start, days=3,
                                 payments_per_day=6, seed=5)
    home = make_home(tmp_path)
    deliver(tmp_path / "scenario", home)
    bad = {"event_id": "evt-bad-currency", "event_type": "payment.sent", "occurred_at": f"{blocked}T10:00:00Z",
           "payment_id": "PAY-BAD-1", "end_to_end_id": "E2E-BAD-1", "amount": "12.00", "currency": "EUX",
           "direction": "outgoing", "account_iban": scenario.truth["accounts"][0]["iban"]}
    (home.inbox_events / "late_delivery.jsonl").write_text(json.dumps(bad) + "\n")

    proc = home.run("run", "--through", last, check=False)

    assert proc.returncode == 1
    reason = proc.stderr.strip()
    assert len(reason.splitlines()) == 1 and blocked in reason and "blocked" in reason
    assert f"cycle {blocked}: BLOCKED" in proc.stdout
    settings = home.settings()
    assert settings.close_pack_path(first).is_file()
    assert settings.close_pack_path(last).is_file()
    assert not settings.close_pack_path(blocked).exists()
    with home.warehouse() as wh:
        evidence = wh.fetchall("select evidence from dq.check_results where pay_cycle = ? "
                               "and severity = 'blocking' and not passed", (dt.date.fromisoformat(blocked),))
    assert any("evt-bad-currency" in str(e[0]) for e in evidence)
