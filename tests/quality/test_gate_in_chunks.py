"""The gate validates a bank's day a chunk at a time (frames.GATE_CHUNK_ROWS), so its memory
follows the chunk, not the cycle (4 million event deliveries held at once took 7 GB). Chunked or
not, every check must give the same verdict, keys, counts and evidence — including the checks
that compare rows with each other (a bank reference booked twice, a bank line in two matches)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from recon_pipeline.quality import frames, run_input_checks, run_mart_checks
from tests.quality.conftest import LAST, NL, event_like
from tests.quality.test_mart_checks import _links, _summary

TUE = LAST


def _comparable(report):
    return {r.check_name: (r.passed, r.failing_count, sorted(r.failing_keys), sorted(r.details), r.rows_checked,
                           r.error) for r in report.results}


@pytest.fixture
def anomalous_home(dq_home):
    """A generated week with failures of row-level checks and of the cross-row staged check."""
    sent = next(e for e in dq_home.events_on(TUE) if e["event_type"] == "payment.sent")
    dq_home.add_events("inject", [event_like(sent, event_id=f"evt-eux-{i}", currency="EUX") for i in range(3)]
                       + [event_like(sent, event_id="evt-scale", amount="10.123")])
    stmt = dq_home.mt940(TUE)
    first = stmt.entries[0]
    stmt.entries.append(stmt.with_amount(first, stmt.amount(first) + Decimal("5.00")))
    stmt.write(dq_home.statement_path(NL, TUE))
    dq_home.load()
    return dq_home


def test_the_input_gate_in_small_chunks_gives_the_one_chunk_verdicts(anomalous_home, monkeypatch):
    with anomalous_home.warehouse() as wh:
        whole = run_input_checks(wh, TUE.isoformat(), anomalous_home.settings(), now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert whole.counts["event_deliveries"] > 20 and whole.counts["bank_line_deliveries"] > 20
    failed = {r.check_name for r in whole.results if not r.passed}
    assert {"events_currency_iso4217", "staged_lines_bank_reference_unique"} <= failed

    # Chunks full just before the second booking of the twice-booked reference: only keeping a
    # reference's bookings together lets the staged check see both.
    with anomalous_home.warehouse() as wh:
        order = [r[0] for r in wh.fetchall(
            "select bank_reference from raw.statement_lines where booking_date = ? and entry_status = 'BOOK' "
            "order by account_iban, bank_reference, source_sha256, position", (TUE,))]
    twice = next(i for i in range(1, len(order)) if order[i] is not None and order[i] == order[i - 1])
    monkeypatch.setattr(frames, "GATE_CHUNK_ROWS", twice)
    with anomalous_home.warehouse() as wh:
        chunked = run_input_checks(wh, TUE.isoformat(), anomalous_home.settings(),
                                   now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert _comparable(chunked) == _comparable(whole)
    assert chunked.counts == whole.counts


def test_the_mart_checks_in_small_chunks_give_the_one_chunk_verdicts(dq_home, monkeypatch):
    dq_home.root.mkdir(parents=True, exist_ok=True)
    rows = [(f"m{i}", f"p{i}", f"bl_{i}", "exact_reference", "1.0000", LAST) for i in range(10)]
    rows += [("m3", "p3", "bl_3", "exact_reference", "1.0000", LAST),         # a link twice
             ("m3", "p3b", "bl_3", "exact_reference", "1.0000", LAST),
             ("m0", "p0", "bl_5", "amount_date_name", "1.2000", LAST)]        # bl_5 in two matches
    with dq_home.warehouse() as wh:
        _summary(wh, [])
        _links(wh, rows)
        whole = run_mart_checks(wh, LAST.isoformat())
        for size in (1, 2, 3, 4, 5):
            monkeypatch.setattr(frames, "GATE_CHUNK_ROWS", size)
            chunked = run_mart_checks(wh, LAST.isoformat())
            assert _comparable(chunked) == _comparable(whole), size
            assert chunked.counts == whole.counts
    assert {"links_unique", "links_bank_line_in_one_match", "links_confidence_range"} <= {
        r.check_name for r in whole.results if not r.passed}
