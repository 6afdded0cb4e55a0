"""The cycle's data as DataFrames for the GX suites, and the checks GX cannot state declaratively.

What runs where:
- GX (``expectations/*.json``) states every row-level rule: required fields, ISO 4217,
  amount format and scale, event types, timestamps, IBAN shape and checksum flags, balance
  proof, continuity, reference uniqueness, link sanity.
- Python computes the derived columns those rules read (an amount's scale, a currency's
  minor units, the mod-97 result, the previous statement's closing balance), because they
  need exact Decimal arithmetic or a look at other rows; the *rule* stays in the suite.
- Python also runs the checks that compare across deliveries or cycles, which have no GX
  expectation: conflicting redeliveries of an event, a missing statement on a business day,
  bank-line volume against the trailing cycles, and the match-rate drop.

Money stays Decimal from the warehouse to the DataFrame (object columns); nothing here
converts an amount to float. Scale is read off the Decimal's exponent, never computed.
"""
from __future__ import annotations

import datetime as dt
import re
import statistics
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Mapping, Sequence

from recon_pipeline.cycles import dbt_vars_for_cycle, parse_cycle
from recon_pipeline.holds import hold_blocked_items, outstanding_holds, releases, without_released
from recon_pipeline.quality.results import (
    BLOCKING,
    WARNING,
    CheckDefinition,
    CheckResult,
    ensure_dq_schema,
    replace_check_results,
)
from recon_pipeline.quality.suites import (
    Suite,
    iso4217_minor_units,
    load_suite,
    suite_parameters,
    validate_frame,
)
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import Warehouse

# ----------------------------------------------------------------------------- tunables
FUTURE_TOLERANCE = dt.timedelta(minutes=5)     # clock skew allowed between producers and us
TRAILING_CYCLES = 7                            # history window for volume and match rate
MIN_HISTORY_CYCLES = 3                         # fewer trailing data points: no judgement
VOLUME_FLOOR_RATIO = Decimal("0.5")            # fewer than half the trailing median: suspicious
VOLUME_MIN_MEDIAN = 10                         # below this, day-to-day noise is larger than the signal
KNOWN_ACCOUNT_DAYS = 30                        # an account is expected if it sent a statement this recently
MATCH_RATE_MAX_DROP = Decimal("0.20")          # 20 points under the trailing median
MATCH_RATE_MIN_PAYMENTS = 10                   # a rate over fewer payments is too noisy to judge

INPUT_SUITES = ("raw_payment_events", "raw_statement_lines", "staged_bank_lines", "raw_statements")
MART_SUITES = ("reconciliation_links",)

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

_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


# ----------------------------------------------------------------------------- small pure helpers
def normalise_account(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).replace(" ", "").upper()


def iban_shaped(value: Any) -> bool:
    """Two letters, two check digits, 11-30 alphanumerics: what an IBAN looks like."""
    text = normalise_account(value)
    return bool(text) and _IBAN_SHAPE.match(text) is not None


def iban_checksum_ok(value: Any) -> bool | None:
    """ISO 13616 mod-97 for IBAN-shaped values; None when the value is not IBAN-shaped.

    None means "not applicable", which GX skips: a plain account number (MT940, BAI2) is not
    a malformed IBAN.
    """
    if value is None or not iban_shaped(value):
        return None
    text = normalise_account(value)
    digits = "".join(str(int(ch, 36)) for ch in text[4:] + text[:4])
    return int(digits) % 97 == 1


def amount_text(value: Any) -> str | None:
    """Canonical decimal text without trailing zeros ('10.12300' -> '10.123'); never via float.

    A float reaching this point is itself a defect (money must be Decimal), so it is
    rendered in a form the amount-format expectations reject.
    """
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, float):
        return f"float:{value!r}"
    if isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value).strip())
        except InvalidOperation:
            return str(value)
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def amount_scale(value: Any) -> int | None:
    """Number of significant decimals of a Decimal amount (10.120 -> 2, 100 -> 0)."""
    text = amount_text(value)
    if text is None or not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return None
    return len(text.split(".", 1)[1]) if "." in text else 0


def money(value: Any) -> str:
    """Display text of an amount: exact, without the warehouse's padding zeros, at least 2 decimals."""
    if not isinstance(value, Decimal):
        return "null" if value is None else str(value)
    shown = value.normalize()
    if shown.as_tuple().exponent > -2:
        shown = value.quantize(Decimal("0.01"))
    return format(shown, "f")


def _naive_utc(value: Any) -> dt.datetime | None:
    """A timestamp as naive UTC (how raw tables hold them); ISO strings accepted."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value
    return None


def cycle_window(pay_cycle: str, settings: Settings) -> tuple[dt.datetime, dt.datetime]:
    """The cycle's half-open UTC window as naive datetimes, from ``dbt_vars_for_cycle``."""
    dbt_vars = dbt_vars_for_cycle(pay_cycle, settings)
    fmt = "%Y-%m-%d %H:%M:%S"
    return (dt.datetime.strptime(dbt_vars["cycle_start_utc"], fmt),
            dt.datetime.strptime(dbt_vars["cycle_end_utc"], fmt))


def _frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]):
    import pandas as pd

    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=list(columns), dtype=object)
    return frame


def _int_column(frame, column: str) -> None:
    import pandas as pd

    frame[column] = pd.array([None if v is None else int(v) for v in frame[column]], dtype="Int64")


def _time_column(frame, column: str) -> None:
    import pandas as pd

    frame[column] = pd.to_datetime(pd.Series(list(frame[column]), dtype=object), errors="coerce")


def _result(definition: CheckDefinition, *, failing: Sequence[str], key_name: str, rows_checked: int,
            details: Sequence[str] = (), expectation: str = "", note: str | None = None) -> CheckResult:
    keys = list(dict.fromkeys(failing))
    return CheckResult(
        check_name=definition.check_name, dataset=definition.dataset, severity=definition.severity,
        passed=not keys, failing_count=len(keys), failing_keys=keys, key_name=key_name,
        details=list(details) + ([note] if note else []), expectation=expectation,
        description=definition.description, rows_checked=rows_checked)


# ----------------------------------------------------------------------------- frames
EVENT_COLUMNS = ("dq_key", "message_key", "event_id", "event_type", "occurred_at", "occurred_at_text",
                 "latest_plausible_at", "payment_id", "amount", "amount_text", "amount_scale", "currency",
                 "currency_minor_units", "direction", "account_iban", "account_iban_checksum_ok",
                 "counterparty_iban", "counterparty_iban_checksum_ok", "origin", "source", "amount_detail",
                 "occurred_at_detail")


def _amount_detail(row: Mapping[str, Any]) -> str | None:
    if row["amount_scale"] is None or row["currency_minor_units"] is None:
        return None
    return (f"amount {row['amount_text']} {row['currency']} has {row['amount_scale']} decimal(s); "
            f"{row['currency']} has {row['currency_minor_units']}")


def events_frame(wh: Warehouse, pay_cycle: str, settings: Settings, now: dt.datetime | None = None,
                 minor_units: Mapping[str, int | None] | None = None):
    """Every delivered event whose occurred_at lies in the cycle's window, with derived columns.

    ``latest_plausible_at``: an event cannot have happened after it reached us (its snapshot
    file's landing time; for Kafka ranges, the check time) nor after the check itself.
    """
    start, end = cycle_window(pay_cycle, settings)
    now_utc = _naive_utc(now or dt.datetime.now(dt.timezone.utc))
    units = minor_units if minor_units is not None else iso4217_minor_units()
    rows = wh.fetch_dicts(
        """select e.message_key, e.event_id, e.event_type, e.occurred_at, e.payment_id, e.amount, e.currency,
                  e.direction, e.account_iban, e.counterparty_iban, e.origin, e.source, f.landed_at
           from raw.payment_events as e
           left join raw.event_files as f on e.origin = 'file' and f.source_sha256 = e.source
           where e.occurred_at >= ? and e.occurred_at < ?
           order by e.message_key""", (start, end))
    for r in rows:
        r["dq_key"] = r["event_id"] if r["event_id"] not in (None, "") else r["message_key"]
        occurred = r["occurred_at"]
        r["occurred_at_text"] = occurred.isoformat() if isinstance(occurred, (dt.datetime, dt.date)) else (
            None if occurred is None else str(occurred))
        delivered = _naive_utc(r.pop("landed_at", None))
        reference = min(delivered, now_utc) if delivered is not None else now_utc
        r["latest_plausible_at"] = reference + FUTURE_TOLERANCE
        r["occurred_at_detail"] = (
            f"occurred_at {r['occurred_at_text']} UTC is after "
            f"{'its delivery' if delivered is not None and delivered <= now_utc else 'the check'} at "
            f"{reference.isoformat(timespec='seconds')} UTC")
        r["amount_text"] = amount_text(r["amount"])
        r["amount_scale"] = amount_scale(r["amount"])
        r["currency_minor_units"] = units.get(r["currency"]) if r["currency"] else None
        r["amount_detail"] = _amount_detail(r)
        r["account_iban_checksum_ok"] = iban_checksum_ok(r["account_iban"])
        r["counterparty_iban_checksum_ok"] = iban_checksum_ok(r["counterparty_iban"])
    frame = _frame(rows, EVENT_COLUMNS)
    _int_column(frame, "amount_scale")
    _int_column(frame, "currency_minor_units")
    _time_column(frame, "occurred_at")
    _time_column(frame, "latest_plausible_at")
    return frame


LINE_COLUMNS = ("dq_key", "bank_line_id", "source_sha256", "source_file", "position", "statement_key",
                "account_iban", "currency", "currency_minor_units", "booking_date", "booking_date_text",
                "value_date", "amount", "amount_text", "amount_scale", "bank_reference", "end_to_end_id",
                "counterparty_iban", "counterparty_iban_checksum_ok", "entry_status", "amount_detail")


def statement_lines_frame(wh: Warehouse, pay_cycle: str, minor_units: Mapping[str, int | None] | None = None):
    """Every delivery of a booked line with booking_date = the cycle (what staging reads).

    Pending and information-only entries are not reconciled, so they are not gated either.
    """
    cycle = parse_cycle(pay_cycle)
    units = minor_units if minor_units is not None else iso4217_minor_units()
    rows = wh.fetch_dicts(
        """select bank_line_id, source_sha256, source_file, position, statement_key, account_iban, currency,
                  booking_date, value_date, amount, bank_reference, end_to_end_id, counterparty_iban,
                  entry_status
           from raw.statement_lines
           where booking_date = ? and entry_status = 'BOOK'
           order by source_sha256, position""", (cycle,))
    for r in rows:
        r["dq_key"] = r["bank_line_id"] or f"{r['source_file']}#{r['position']}"
        r["booking_date_text"] = r["booking_date"].isoformat() if r["booking_date"] else None
        r["amount_text"] = amount_text(r["amount"])
        r["amount_scale"] = amount_scale(r["amount"])
        r["currency_minor_units"] = units.get(r["currency"]) if r["currency"] else None
        r["amount_detail"] = _amount_detail(r)
        r["counterparty_iban_checksum_ok"] = iban_checksum_ok(r["counterparty_iban"])
    frame = _frame(rows, LINE_COLUMNS)
    _int_column(frame, "amount_scale")
    _int_column(frame, "currency_minor_units")
    return frame


def staged_lines_frame(lines):
    """The lines as dbt's stg_bank_lines will keep them: non-zero, first delivery per bank_line_id."""
    if lines.empty:
        return lines.copy()
    keep = [bool(a is not None and a != 0) for a in lines["amount"]]
    staged = lines[keep].sort_values(["source_sha256", "position"], kind="stable")
    return staged.drop_duplicates(subset=["bank_line_id"], keep="first").reset_index(drop=True)


STATEMENT_COLUMNS = ("dq_key", "statement_key", "source_sha256", "statement_index", "original_name",
                     "account_iban", "account_iban_checksum_ok", "currency", "statement_date", "opening_balance",
                     "closing_balance", "movements", "balanced", "balance_proof_detail", "control_totals_ok",
                     "control_detail", "previous_closing_balance", "continuity_detail")


@dataclass
class StatementHistory:
    """Statements up to the cycle (a year back), each with the cycle stg_statements gives it."""

    rows: list[dict[str, Any]]

    def on(self, day: dt.date) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["statement_date"] == day]

    def accounts_between(self, first: dt.date, last: dt.date) -> set[str]:
        return {r["account_iban"] for r in self.rows
                if r["statement_date"] is not None and first <= r["statement_date"] <= last}


def statement_history(wh: Warehouse, pay_cycle: str, days_back: int = 366) -> StatementHistory:
    cycle = parse_cycle(pay_cycle)
    rows = wh.fetch_dicts(
        """with last_booking as (
               select statement_key, max(booking_date) as last_booking_date
               from raw.statement_lines group by statement_key
           )
           select s.statement_key, s.source_sha256, s.statement_index, s.account_iban, s.currency,
                  s.opening_balance, s.closing_balance, s.movements, s.balanced, s.statement_id,
                  s.opening_date, s.closing_date, f.original_name,
                  coalesce(s.closing_date, b.last_booking_date, s.opening_date) as statement_date
           from raw.statements as s
           left join raw.statement_files as f on f.source_sha256 = s.source_sha256
           left join last_booking as b on b.statement_key = s.statement_key
           where coalesce(s.closing_date, b.last_booking_date, s.opening_date) between ? and ?
           order by statement_date, s.source_sha256, s.statement_index""",
        (cycle - dt.timedelta(days=days_back), cycle))
    return StatementHistory(rows)


def statements_frame(wh: Warehouse, pay_cycle: str, history: StatementHistory | None = None):
    """The cycle's statements (its own, plus any holding a line booked on it), with the
    balance-proof and control-total evidence and the previous statement's closing balance."""
    cycle = parse_cycle(pay_cycle)
    history = history or statement_history(wh, pay_cycle)
    holding = {r["statement_key"] for r in wh.fetch_dicts(
        "select distinct statement_key from raw.statement_lines where booking_date = ?", (cycle,))}
    mine = [dict(r) for r in history.rows if r["statement_date"] == cycle or r["statement_key"] in holding]
    known = {r["statement_key"] for r in mine}
    # A statement holding a line of this cycle but dated outside the loaded history.
    missing = holding - known
    if missing:
        marks = ", ".join("?" for _ in missing)
        extra = wh.fetch_dicts(
            f"""select s.statement_key, s.source_sha256, s.statement_index, s.account_iban, s.currency,
                       s.opening_balance, s.closing_balance, s.movements, s.balanced, s.statement_id,
                       s.opening_date, s.closing_date, f.original_name,
                       coalesce(s.closing_date, s.opening_date) as statement_date
                from raw.statements as s
                left join raw.statement_files as f on f.source_sha256 = s.source_sha256
                where s.statement_key in ({marks})""", tuple(sorted(missing)))
        mine.extend(extra)
    findings: dict[tuple[str, int], list[str]] = {}
    for f in wh.fetch_dicts(
            "select source_sha256, statement_index, code, message from raw.statement_findings "
            "where code = 'control_total_mismatch'"):
        findings.setdefault((f["source_sha256"], f["statement_index"]), []).append(f["message"])
    for r in mine:
        name = r.get("original_name") or r["source_sha256"][:12]
        r["dq_key"] = f"{r['account_iban']} {r['statement_date'] or '?'} ({name}#{r['statement_index']})"
        r["account_iban_checksum_ok"] = iban_checksum_ok(r["account_iban"])
        if r["balanced"] is False:
            expected = (r["opening_balance"] or Decimal(0)) + (r["movements"] or Decimal(0))
            r["balance_proof_detail"] = (
                f"opening {money(r['opening_balance'])} + movements {money(r['movements'])} = {money(expected)}, "
                f"but closing is {money(r['closing_balance'])} "
                f"(difference {money((r['closing_balance'] or Decimal(0)) - expected)})")
        else:
            r["balance_proof_detail"] = None
        messages = findings.get((r["source_sha256"], r["statement_index"]), [])
        r["control_totals_ok"] = not messages
        r["control_detail"] = "; ".join(messages) if messages else None
        previous = _previous_statement(history.rows, r)
        r["previous_closing_balance"] = previous["closing_balance"] if previous else None
        r["continuity_detail"] = None
        if previous and r["opening_balance"] is not None and previous["closing_balance"] is not None \
                and previous["closing_balance"] != r["opening_balance"]:
            r["continuity_detail"] = (
                f"opens at {money(r['opening_balance'])}, but the previous statement "
                f"({previous['statement_date']}, {previous.get('original_name') or previous['source_sha256'][:12]}) "
                f"closed at {money(previous['closing_balance'])} "
                f"(gap {money(r['opening_balance'] - previous['closing_balance'])})")
    return _frame(mine, STATEMENT_COLUMNS)


def _previous_statement(rows: Sequence[Mapping[str, Any]], stmt: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The account's statement of the latest earlier day; among several that day, one that
    connects when there is one (an intraday report and the day's statement both close it)."""
    day = stmt["statement_date"]
    if day is None:
        return None
    earlier = [r for r in rows if r["account_iban"] == stmt["account_iban"]
               and (r["currency"] == stmt["currency"] or r["currency"] is None or stmt["currency"] is None)
               and r["statement_date"] is not None and r["statement_date"] < day
               and r["closing_balance"] is not None]
    if not earlier:
        return None
    last_day = max(r["statement_date"] for r in earlier)
    candidates = [r for r in earlier if r["statement_date"] == last_day]
    for r in candidates:
        if r["closing_balance"] == stmt["opening_balance"]:
            return r
    return candidates[-1]


LINK_COLUMNS = ("dq_key", "match_id", "payment_id", "bank_line_id", "rule_id", "confidence", "pay_cycle",
                "bank_line_match_count")


def links_frame(wh: Warehouse, pay_cycle: str):
    """The cycle's reconciliation links, with how many distinct matches each bank line is in
    (over this and earlier cycles: a booking settles one thing, once)."""
    cycle = parse_cycle(pay_cycle)
    rows = wh.fetch_dicts(
        """select match_id, payment_id, bank_line_id, rule_id, confidence, pay_cycle
           from marts.fct_reconciliation_links where pay_cycle = ?
           order by match_id, payment_id, bank_line_id""", (cycle,))
    counts = {r["bank_line_id"]: int(r["n"]) for r in wh.fetch_dicts(
        """select bank_line_id, count(distinct match_id) as n
           from marts.fct_reconciliation_links
           where pay_cycle <= ? and bank_line_id in (
               select bank_line_id from marts.fct_reconciliation_links where pay_cycle = ?)
           group by bank_line_id""", (cycle, cycle))}
    for r in rows:
        r["dq_key"] = f"{r['match_id']}/{r['payment_id']}/{r['bank_line_id']}"
        r["bank_line_match_count"] = counts.get(r["bank_line_id"], 0) if r["bank_line_id"] else None
    frame = _frame(rows, LINK_COLUMNS)
    _int_column(frame, "bank_line_match_count")
    return frame


# ----------------------------------------------------------------------------- python checks
def event_id_conflicts(wh: Warehouse, pay_cycle: str, settings: Settings) -> CheckResult:
    """Same event_id delivered with different content (any delivery, even outside the window,
    of an event_id that has one inside it)."""
    definition = PYTHON_INPUT_CHECKS[0]
    start, end = cycle_window(pay_cycle, settings)
    cols = ", ".join(EVENT_CONTENT_FIELDS)
    rows = wh.fetch_dicts(
        f"""select event_id, message_key, {cols} from raw.payment_events
            where event_id in (select event_id from raw.payment_events where occurred_at >= ? and occurred_at < ?)
            order by event_id, origin, source, topic, kafka_partition, message_offset, message_key""",
        (start, end))
    by_id: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_id.setdefault(r["event_id"], []).append(r)
    failing, details = [], []
    for event_id, deliveries in by_id.items():
        first = deliveries[0]
        for other in deliveries[1:]:
            differs = [f for f in EVENT_CONTENT_FIELDS if first[f] != other[f]]
            if differs:
                failing.append(event_id)
                shown = ", ".join(f"{f} {_show(first[f])} vs {_show(other[f])}" for f in differs[:4])
                details.append(f"{event_id}: {shown} ({_short_key(first['message_key'])} vs "
                               f"{_short_key(other['message_key'])})")
                break
    return _result(definition, failing=failing, key_name="event_id", rows_checked=len(by_id),
                   details=details, expectation="python: all deliveries of an event_id have equal "
                                                f"{', '.join(EVENT_CONTENT_FIELDS)}")


def held_items_check(wh: Warehouse, pay_cycle: str) -> CheckResult:
    """Items earlier blocked cycles hold back and no operator has released yet."""
    definition = next(d for d in PYTHON_INPUT_CHECKS if d.check_name == "held_items_outstanding")
    held = outstanding_holds(wh, before_cycle=parse_cycle(pay_cycle))
    return _result(definition, failing=[f"{h['item_kind']}:{h['item_key']}" for h in held], key_name="item",
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
        return _result(definition, failing=[], key_name="account", rows_checked=len(known),
                       expectation=expectation)
    present = {r["account_iban"] for r in history.on(cycle)}
    present |= {acct for (acct, day) in lines_by_account_day if day == cycle}
    missing = sorted(known - present)
    details = []
    for acct in missing:
        last = max(r["statement_date"] for r in history.rows if r["account_iban"] == acct
                   and r["statement_date"] is not None and r["statement_date"] < cycle)
        details.append(f"{acct}: no statement for {cycle} ({cycle:%A}); last one {last}")
    return _result(definition, failing=missing, key_name="account", rows_checked=len(known),
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
    return _result(definition, failing=failing, key_name="account", rows_checked=judged, details=details,
                   expectation=f"python: lines(cycle) >= {VOLUME_FLOOR_RATIO} x median(lines of the trailing "
                               f"{TRAILING_CYCLES} cycles with a statement), when median >= {VOLUME_MIN_MEDIAN}")


def booked_line_counts(wh: Warehouse, pay_cycle: str) -> dict[tuple[str, dt.date], int]:
    """Distinct booked, non-zero lines per (account, booking date) for the cycle and its trailing days."""
    cycle = parse_cycle(pay_cycle)
    rows = wh.fetchall(
        """select account_iban, booking_date, count(distinct bank_line_id)
           from raw.statement_lines
           where entry_status = 'BOOK' and amount <> 0 and booking_date between ? and ?
           group by account_iban, booking_date""",
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
    return _result(definition, failing=failing, key_name="account", rows_checked=judged, details=details,
                   expectation=expectation)


# ----------------------------------------------------------------------------- the cycle gates
@dataclass
class CycleReport:
    """Every check result of one run for one cycle, plus row counts for the asset metadata."""

    pay_cycle: str
    results: list[CheckResult]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def blocking_failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocks]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed and not r.blocking]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures

    def result(self, check_name: str) -> CheckResult:
        for r in self.results:
            if r.check_name == check_name:
                return r
        raise KeyError(check_name)


def input_check_definitions() -> list[CheckDefinition]:
    """Every check of the cycle-inputs gate, in display order (suites first, then Python)."""
    from recon_pipeline.quality.suites import check_definitions

    return check_definitions(INPUT_SUITES) + list(PYTHON_INPUT_CHECKS)


def mart_check_definitions() -> list[CheckDefinition]:
    from recon_pipeline.quality.suites import check_definitions

    return check_definitions(MART_SUITES) + list(PYTHON_MART_CHECKS)


def _datasets(definitions: Iterable[CheckDefinition]) -> list[str]:
    return sorted({d.dataset for d in definitions})


def _guarded(definition: CheckDefinition, fn: Callable[[], CheckResult]) -> CheckResult:
    """Run a Python check; if it crashes, report it failed with the error (a gate fails closed)."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001
        return CheckResult(check_name=definition.check_name, dataset=definition.dataset,
                           severity=definition.severity, passed=False, description=definition.description,
                           error=f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")


def run_input_checks(wh: Warehouse, pay_cycle: str, settings: Settings,
                     now: dt.datetime | None = None) -> CycleReport:
    """Validate one cycle's raw inputs (events, statement lines, statements); nothing is written."""
    from recon_pipeline.warehouse.raw_schema import ensure_raw_schema

    parse_cycle(pay_cycle)
    ensure_raw_schema(wh)
    params = suite_parameters()
    units = iso4217_minor_units()
    suites: dict[str, Suite] = {name: load_suite(name) for name in INPUT_SUITES}

    events = events_frame(wh, pay_cycle, settings, now=now, minor_units=units)
    lines = statement_lines_frame(wh, pay_cycle, minor_units=units)
    staged = staged_lines_frame(lines)
    history = statement_history(wh, pay_cycle)
    statements = statements_frame(wh, pay_cycle, history)
    counts = booked_line_counts(wh, pay_cycle)

    results: list[CheckResult] = []
    results += validate_frame(suites["raw_payment_events"], events, params)
    results += validate_frame(suites["raw_statement_lines"], lines, params)
    results += validate_frame(suites["staged_bank_lines"], staged, params)
    results += validate_frame(suites["raw_statements"], statements, params)
    results = without_released(results, releases(wh))
    python_checks = {
        "held_items_outstanding": lambda: held_items_check(wh, pay_cycle),
        "events_event_id_conflict": lambda: event_id_conflicts(wh, pay_cycle, settings),
        "statement_missing_on_business_day": lambda: missing_statements(pay_cycle, history, counts),
        "bank_line_volume": lambda: bank_line_volume(pay_cycle, history, counts),
    }
    python_results = [_guarded(d, python_checks[d.check_name]) for d in PYTHON_INPUT_CHECKS]
    results += without_released(python_results, releases(wh))
    return CycleReport(pay_cycle, results, {
        "event_deliveries": len(events),
        "events": int(events["event_id"].nunique()) if len(events) else 0,
        "bank_line_deliveries": len(lines),
        "bank_lines": len(staged),
        "statements": len(statements),
        "accounts": len({a for a in list(staged["account_iban"]) + list(statements["account_iban"]) if a}),
    })


def run_mart_checks(wh: Warehouse, pay_cycle: str) -> CycleReport:
    """Validate one cycle's marts after dbt built them (warnings only); nothing is written."""
    parse_cycle(pay_cycle)
    suite = load_suite("reconciliation_links")
    results: list[CheckResult] = []
    if wh.table_exists("marts", "fct_reconciliation_links"):
        links = links_frame(wh, pay_cycle)
        results += validate_frame(suite, links, suite_parameters())
        n_links = len(links)
    else:
        n_links = 0
        results += [CheckResult(d.check_name, d.dataset, d.severity, passed=False, description=d.description,
                                error="marts.fct_reconciliation_links does not exist (dbt has not built it)")
                    for d in suite.checks()]
    definition = PYTHON_MART_CHECKS[0]
    if wh.table_exists("marts", "rpt_close_summary"):
        results.append(_guarded(definition, lambda: match_rate_drop(wh, pay_cycle)))
    else:
        results.append(CheckResult(definition.check_name, definition.dataset, definition.severity, passed=False,
                                   description=definition.description,
                                   error="marts.rpt_close_summary does not exist (dbt has not built it)"))
    return CycleReport(pay_cycle, results, {"links": n_links})


def check_cycle_inputs(wh: Warehouse, pay_cycle: str, settings: Settings,
                       now: dt.datetime | None = None) -> CycleReport:
    """Run the input gate and store its results for the cycle (replacing the previous run's)."""
    report = run_input_checks(wh, pay_cycle, settings, now=now)
    ensure_dq_schema(wh)
    replace_check_results(wh, pay_cycle, report.results, _datasets(input_check_definitions()))
    hold_blocked_items(wh, pay_cycle, report.results)
    return report


def check_cycle_marts(wh: Warehouse, pay_cycle: str) -> CycleReport:
    """Run the mart checks and store their results for the cycle (replacing the previous run's)."""
    report = run_mart_checks(wh, pay_cycle)
    replace_check_results(wh, pay_cycle, report.results, _datasets(mart_check_definitions()))
    return report
