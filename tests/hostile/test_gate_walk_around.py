"""A blocked cycle's bad items stay out of every later cycle until an operator acknowledges
or excludes them (append-only, audited), through `recon run` / `recon release` on a DuckDB
warehouse (issue #11 item 2)."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from recon_pipeline.audit import read_audit_log
from recon_pipeline.holds import release_item
from recon_pipeline.scenario.generator import generate_scenario
from recon_pipeline.warehouse.connection import open_warehouse
from tests.e2e.conftest import deliver, make_home


def _event(event_id: str, payment_id: str, amount: str, currency: str, iban: str) -> str:
    return json.dumps({"event_id": event_id, "event_type": "payment.sent", "occurred_at": "2026-11-10T10:00:00Z",
                       "payment_id": payment_id, "end_to_end_id": f"E2E-{payment_id}", "amount": amount,
                       "currency": currency, "direction": "outgoing", "account_iban": iban})


def _payments(home, cycle: str) -> dict[str, Decimal]:
    with home.warehouse() as wh:
        return dict(wh.fetchall("select payment_id, amount from marts.fct_payment_reconciliation "
                                "where pay_cycle = ?", (dt.date.fromisoformat(cycle),)))


def test_a_blocked_cycles_bad_items_stay_out_of_later_cycles_until_released(tmp_path):
    scenario = generate_scenario(tmp_path / "scenario", start=dt.date(2026, 11, 10), days=2,
                                 payments_per_day=5, seed=5)
    home = make_home(tmp_path)
    deliver(tmp_path / "scenario", home)
    iban = scenario.truth["accounts"][0]["iban"]
    lines = [""] * 6 + [
        _event("evt-bad-ccy", "PAY-BAD-CCY", "12.00", "XYZ", iban),           # line 7
        _event("evt-five-dec", "PAY-FIVE-DEC", "12.12345", "EUR", iban),      # line 8
        _event("evt-dup", "PAY-DUP", "10.00", "EUR", iban),                   # line 9: the first delivery
        _event("evt-dup", "PAY-DUP", "99.00", "EUR", iban),                   # line 10: conflicting content
    ]
    (home.inbox_events / "late_delivery.jsonl").write_text("\n".join(lines) + "\n")

    proc = home.run("run", "--through", "2026-11-11", check=False)

    assert proc.returncode == 1 and "cycle 2026-11-10: BLOCKED" in proc.stdout
    settings = home.settings()
    assert settings.close_pack_path("2026-11-11").is_file()
    held_payments = {"PAY-BAD-CCY", "PAY-FIVE-DEC", "PAY-DUP"}
    assert not held_payments & set(_payments(home, "2026-11-11"))          # not carried past the gate
    with home.warehouse() as wh:
        held = {r[0] for r in wh.fetchall("select item_key from ops.held_items")}
        later = wh.fetch_dicts("select passed, severity, evidence from dq.check_results where pay_cycle = ? "
                               "and check_name = 'held_items_outstanding'", (dt.date(2026, 11, 11),))
    assert held == {"evt-bad-ccy", "evt-five-dec", "evt-dup"}
    assert later[0]["passed"] is False and later[0]["severity"] == "warning"  # the pack's DQ sheet is not all PASS
    assert "evt-dup" in later[0]["evidence"]

    for key in ("evt-bad-ccy", "evt-five-dec"):
        release_item(settings, key, "exclude", "wrong test data from the producer", "alice")
    out = home.run("release", "evt-dup", "--action", "acknowledge", "--reason", "first delivery is right",
                   "--by", "bob")

    assert "acknowledge" in out.stdout
    assert settings.close_pack_path("2026-11-10").is_file()                # the cycle builds now
    cycle_10 = _payments(home, "2026-11-10")
    assert cycle_10["PAY-DUP"] == Decimal("10.00")                          # line 9 before line 10, numerically
    assert "PAY-BAD-CCY" not in cycle_10 and "PAY-FIVE-DEC" not in cycle_10
    with open_warehouse(settings, read_only=True) as wh:
        actions = [(r.actor, r.action, r.subject) for r in read_audit_log(wh)]
        releases = wh.fetchall("select item_key, action from ops.item_releases order by item_key")
    assert ("bob", "release_acknowledge", "event:evt-dup") in actions
    assert ("alice", "release_exclude", "event:evt-bad-ccy") in actions
    assert releases == [("evt-bad-ccy", "exclude"), ("evt-dup", "acknowledge"), ("evt-five-dec", "exclude")]
