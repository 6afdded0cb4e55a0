"""The checks GX cannot state declaratively, because they compare across deliveries or cycles:
conflicting redeliveries of an event, items still held by an earlier blocked cycle, a missing
statement on a business day, bank-line volume against the trailing cycles, the match-rate drop.
"""
from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Mapping, Sequence
from decimal import Decimal
from itertools import groupby
from typing import Any

from recon_pipeline.cycles import parse_cycle
from recon_pipeline.holds import outstanding_holds
from recon_pipeline.quality.frames import StatementHistory
from recon_pipeline.quality.results import (
    BLOCKING,
    WARNING,
    CheckDefinition,
    CheckResult,
)
from recon_pipeline.quality.staging_rules import bank_line_is_booked_sql
from recon_pipeline.quality.values import cycle_window, money
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import Warehouse

# ----------------------------------------------------------------------------- tunables
TRAILING_CYCLES = 7                            # history window for volume and match rate
MIN_HISTORY_CYCLES = 3                         # fewer trailing data points: no judgement
VOLUME_FLOOR_RATIO = Decimal("0.5")            # fewer than half the trailing median: suspicious
VOLUME_MIN_MEDIAN = 10                         # below this, day-to-day noise is larger than the signal
KNOWN_ACCOUNT_DAYS = 30                        # an account is expected if it sent a statement this recently
MATCH_RATE_MAX_DROP = Decimal("0.20")          # 20 points under the trailing median
MATCH_RATE_MIN_PAYMENTS = 10                   # a rate over fewer payments is too noisy to judge

# Fields that make up an event's content: a redelivery must repeat all of them. Unknown extra
# fields (extra_json) and delivery coordinates are not content: they don't change the money.
EVENT_CONTENT_FIELDS = ("event_type", "occurred_at", "payment_id", "end_to_end_id", "batch_id", "amount",
                        "currency", "direction", "account_iban", "counterparty_name", "counterparty_iban",
                        "return_reason", "service")

PYTHON_INPUT_CHECKS = (
    CheckDefinition(
        "events_event_id_conflict", "raw_payment_events", BLOCKING,
        "Every delivery of an event_id carries the same content. A redelivery repeating the content is "
        "normal and de-duplicated; the same event_id with a different amount, type, account or time means "
        "staging would keep one version arbitrarily, so the cycle stops until the producer says which is right.",
        "python"),
    CheckDefinition(
        "statement_missing_on_business_day", "raw_statements", WARNING,
        "Every account that sent a statement in the last 30 days sends one for each business day (Mon-Fri). "
        "A missing statement leaves the day's bookings unseen; a warning, because bank holidays are not "
        "modelled and the lines will surface as missing_in_bank exceptions if they never come.",
        "python"),
    CheckDefinition(
        "bank_line_volume", "staged_bank_lines", WARNING,
        "Suspicious volume: an account with fewer than half the median number of booked lines of its "
        "trailing 7 cycles (judged when it has at least 3 such cycles and a median of at least 10 lines). "
        "Often a partial file or a feed cut short.",
        "python"),
    CheckDefinition(
        "held_items_outstanding", "held_items", WARNING,
        "No event or bank line is still held back by an earlier blocked cycle. A blocked cycle's failing "
        "items are kept out of every later cycle (they would otherwise be carried forward past the gate) "
        "until an operator runs `recon release <key> --action acknowledge|exclude`; while any is held, "
        "this cycle's totals are incomplete.",
        "python"),
)
PYTHON_MART_CHECKS = (
    CheckDefinition(
        "match_rate_vs_trailing_median", "rpt_close_summary", WARNING,
        "Per account, the cycle's match rate is no more than 20 points below the median of its trailing "
        "7 cycles (judged with at least 3 earlier cycles and 10 payments in the cycle). A sudden drop "
        "usually means a changed reference format or a broken feed, not suddenly worse payments.",
        "python"),
)


def check_result(definition: CheckDefinition, *, failing: Sequence[str], key_name: str, rows_checked: int,
                 details: Sequence[str] = (), expectation: str = "", note: str | None = None) -> CheckResult:
    keys = list(dict.fromkeys(failing))
    return CheckResult(
        check_name=definition.check_name, dataset=definition.dataset, severity=definition.severity,
        passed=not keys, failing_count=len(keys), failing_keys=keys, key_name=key_name,
        details=list(details) + ([note] if note else []), expectation=expectation,
        description=definition.description, rows_checked=rows_checked)


# ----------------------------------------------------------------------------- python checks
def event_id_conflicts(wh: Warehouse, pay_cycle: str, settings: Settings) -> CheckResult:
    """Same event_id delivered with different content (any delivery, even outside the window,
    of an event_id that has one inside it)."""
    definition = PYTHON_INPUT_CHECKS[0]
    start, end = cycle_window(pay_cycle, settings)
    cols = ", ".join(EVENT_CONTENT_FIELDS)
    sql = f"""select event_id, message_key, {cols} from raw.payment_events
            where event_id in (select event_id from raw.payment_events where occurred_at >= ? and occurred_at < ?)
            order by event_id, origin, source, topic, kafka_partition, message_offset, message_key"""
    names = ["event_id", "message_key", *EVENT_CONTENT_FIELDS]
    # Streamed one event_id at a time: a bank's day has millions of deliveries.
    rows = (dict(zip(names, values)) for values in wh.iter_rows(sql, (start, end), batch_size=10_000))
    failing, details, checked = [], [], 0
    for event_id, group in groupby(rows, key=lambda r: r["event_id"]):
        checked += 1
        first, *others = group        # one event_id's deliveries: a handful
        for other in others:
            differs = [f for f in EVENT_CONTENT_FIELDS if first[f] != other[f]]
            if differs:
                failing.append(event_id)
                shown = ", ".join(f"{f} {_show(first[f])} vs {_show(other[f])}" for f in differs[:4])
                details.append(f"{event_id}: {shown} ({_short_key(first['message_key'])} vs "
                               f"{_short_key(other['message_key'])})")
                break
    return check_result(definition, failing=failing, key_name="event_id", rows_checked=checked,
                        details=details, expectation="python: all deliveries of an event_id have equal "
                                                     f"{', '.join(EVENT_CONTENT_FIELDS)}")


def held_items_check(wh: Warehouse, pay_cycle: str) -> CheckResult:
    """Items earlier blocked cycles hold back and no operator has released yet."""
    definition = next(d for d in PYTHON_INPUT_CHECKS if d.check_name == "held_items_outstanding")
    held = outstanding_holds(wh, before_cycle=parse_cycle(pay_cycle))
    return check_result(definition, failing=[f"{h['item_kind']}:{h['item_key']}" for h in held], key_name="item",
                        rows_checked=len(held),
                        details=[f"{h['item_kind']} {h['item_key']} held since blocked cycle {h['pay_cycle']} "
                                 f"({h['check_name']}: {h['reason']})" for h in held],
                        expectation="python: no unreleased row in ops.held_items from an earlier cycle")


def _short_key(message_key: str) -> str:
    """``file:<sha256>:<line>`` with the sha cut to 12 characters, for evidence text."""
    return re.sub(r"([0-9a-f]{12})[0-9a-f]{52}", r"\1", message_key)


def _show(value: Any) -> str:
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def missing_statements(pay_cycle: str, history: StatementHistory, lines_by_account_day: Mapping) -> CheckResult:
    """Known accounts without a statement (or any booked line) on a business day."""
    definition = PYTHON_INPUT_CHECKS[1]
    cycle = parse_cycle(pay_cycle)
    known = history.accounts_between(cycle - dt.timedelta(days=KNOWN_ACCOUNT_DAYS), cycle - dt.timedelta(days=1))
    expectation = (f"python: on Mon-Fri, every account with a statement in the previous {KNOWN_ACCOUNT_DAYS} "
                   "days has a statement (or booked lines) for the cycle")
    if cycle.weekday() >= 5:
        return check_result(definition, failing=[], key_name="account", rows_checked=len(known),
                            expectation=expectation)
    present = {r["account_iban"] for r in history.on(cycle)}
    present |= {acct for (acct, day) in lines_by_account_day if day == cycle}
    missing = sorted(known - present)
    details = []
    for acct in missing:
        last = max(r["statement_date"] for r in history.rows if r["account_iban"] == acct
                   and r["statement_date"] is not None and r["statement_date"] < cycle)
        details.append(f"{acct}: no statement for {cycle} ({cycle:%A}); last one {last}")
    return check_result(definition, failing=missing, key_name="account", rows_checked=len(known),
                        details=details, expectation=expectation)


def bank_line_volume(pay_cycle: str, history: StatementHistory, lines_by_account_day: Mapping[tuple, int]
                     ) -> CheckResult:
    """Accounts with fewer than half their trailing median of booked lines."""
    definition = PYTHON_INPUT_CHECKS[2]
    cycle = parse_cycle(pay_cycle)
    trailing = [cycle - dt.timedelta(days=i) for i in range(TRAILING_CYCLES, 0, -1)]
    active_days: dict[str, set[dt.date]] = {}
    for r in history.rows:
        if r["statement_date"] is not None:
            active_days.setdefault(r["account_iban"], set()).add(r["statement_date"])
    for (acct, day) in lines_by_account_day:
        active_days.setdefault(acct, set()).add(day)
    failing, details = [], []
    judged = 0
    for acct in sorted(a for a, days in active_days.items() if cycle in days):
        history_counts = [lines_by_account_day.get((acct, d), 0) for d in trailing if d in active_days[acct]]
        if len(history_counts) < MIN_HISTORY_CYCLES:
            continue
        median = Decimal(str(statistics.median(history_counts)))
        if median < VOLUME_MIN_MEDIAN:
            continue
        judged += 1
        today = lines_by_account_day.get((acct, cycle), 0)
        if Decimal(today) < median * VOLUME_FLOOR_RATIO:
            failing.append(acct)
            details.append(f"{acct}: suspicious volume: {today} booked line(s) on {cycle}, trailing "
                           f"{len(history_counts)}-cycle median {median.normalize():f}")
    return check_result(definition, failing=failing, key_name="account", rows_checked=judged, details=details,
                        expectation=f"python: lines(cycle) >= {VOLUME_FLOOR_RATIO} x median(lines of the trailing "
                                    f"{TRAILING_CYCLES} cycles with a statement), when median >= {VOLUME_MIN_MEDIAN}")


def booked_line_counts(wh: Warehouse, pay_cycle: str) -> dict[tuple[str, dt.date], int]:
    """Distinct booked, non-zero lines per (account, booking date) for the cycle and its trailing days."""
    cycle = parse_cycle(pay_cycle)
    rows = wh.fetchall(
        f"""select l.account_iban, l.booking_date, count(distinct l.bank_line_id)
           from raw.statement_lines as l
           where {bank_line_is_booked_sql('l')} and l.booking_date between ? and ?
           group by l.account_iban, l.booking_date""",
        (cycle - dt.timedelta(days=max(TRAILING_CYCLES, KNOWN_ACCOUNT_DAYS)), cycle))
    return {(acct, day): int(n) for acct, day, n in rows}


def match_rate_drop(wh: Warehouse, pay_cycle: str) -> CheckResult:
    """Accounts whose match rate fell more than 20 points under their trailing median."""
    definition = PYTHON_MART_CHECKS[0]
    cycle = parse_cycle(pay_cycle)
    expectation = (f"python: match_rate(cycle) >= median(match_rate of the trailing {TRAILING_CYCLES} cycles) - "
                   f"{MATCH_RATE_MAX_DROP}, per account with >= {MATCH_RATE_MIN_PAYMENTS} payments")
    rows = wh.fetch_dicts(
        """select account_iban, pay_cycle, match_rate, payments_count from marts.rpt_close_summary
           where pay_cycle between ? and ? order by account_iban, pay_cycle""",
        (cycle - dt.timedelta(days=TRAILING_CYCLES), cycle))
    by_account: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_account.setdefault(r["account_iban"], []).append(r)
    failing, details = [], []
    judged = 0
    for acct, items in sorted(by_account.items()):
        today = [r for r in items if r["pay_cycle"] == cycle and r["match_rate"] is not None]
        if not today or int(today[0]["payments_count"] or 0) < MATCH_RATE_MIN_PAYMENTS:
            continue
        rate = Decimal(str(today[0]["match_rate"]))
        earlier = [Decimal(str(r["match_rate"])) for r in items
                   if r["pay_cycle"] < cycle and r["match_rate"] is not None]
        if len(earlier) < MIN_HISTORY_CYCLES:
            continue
        judged += 1
        median = statistics.median(earlier)
        if rate < median - MATCH_RATE_MAX_DROP:
            failing.append(acct)
            details.append(f"{acct}: match rate {rate.normalize():f} on {cycle}, trailing median "
                           f"{Decimal(median).normalize():f} over {len(earlier)} cycle(s)")
    return check_result(definition, failing=failing, key_name="account", rows_checked=judged, details=details,
                        expectation=expectation)
