"""The cycle's data as pandas DataFrames for the GX suites, with the derived columns they read.

GX (``expectations/*.json``) states every row-level rule; Python computes the columns those rules
read (an amount's scale, a currency's minor units, IBAN shape and validity, the previous
statement's closing balance), because they need exact Decimal arithmetic or a look at other rows.
Which statements and which delivery of a bank line staging keeps comes from staging's own
macros (``staging_rules.py``), not from a copy here. Money stays Decimal (object columns).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from recon_pipeline.cycles import parse_cycle
from recon_pipeline.iban import iban_checksum_ok, iban_shaped
from recon_pipeline.quality.staging_rules import (
    bank_line_delivery_order_sql,
    bank_line_is_booked_sql,
    statement_pay_cycle_sql,
)
from recon_pipeline.quality.suites import iso4217_minor_units
from recon_pipeline.quality.values import (
    amount_scale,
    amount_text,
    cycle_window,
    money,
    naive_utc,
)
from recon_pipeline.settings import Settings
from recon_pipeline.statements.model import balance_gap
from recon_pipeline.warehouse.connection import Warehouse

FUTURE_TOLERANCE = dt.timedelta(minutes=5)     # clock skew allowed between producers and us


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


EVENT_COLUMNS = ("dq_key", "message_key", "event_id", "event_type", "occurred_at", "occurred_at_text",
                 "latest_plausible_at", "payment_id", "amount", "amount_text", "amount_scale", "currency",
                 "currency_minor_units", "direction", "account_iban", "account_iban_shaped", "account_iban_checksum_ok",
                 "counterparty_iban", "counterparty_iban_checksum_ok", "origin", "source", "amount_detail",
                 "occurred_at_detail")


def _amount_detail(row: Mapping[str, Any]) -> str | None:
    if row["amount_scale"] is None or row["currency_minor_units"] is None:
        return None
    return (f"amount {row['amount_text']} {row['currency']} has {row['amount_scale']} decimal(s); "
            f"{row['currency']} has {row['currency_minor_units']}")


# How many rows the gate validates at a time. Why chunks: a bank's day (1,000,000 payments,
# ~4 million event deliveries) held as one frame of Python objects took 7 GB before Great
# Expectations read a row; in chunks, memory follows the chunk, not the cycle. Every row-level
# expectation gives the same answer chunk by chunk; the one that compares rows (a staged line's
# bank reference is unique per account and day) gets chunks cut between keys, never inside one.
# A cycle up to this size is one chunk, as before. Read when the gate runs (tests shrink it).
GATE_CHUNK_ROWS = 100_000


def _chunks(wh: Warehouse, sql: str, params: Sequence[Any], chunk_rows: int | None,
            same_chunk: Callable[[dict[str, Any], dict[str, Any]], bool] | None = None):
    """The query's rows as dicts, ``chunk_rows`` at a time (all at once when None), streamed.

    ``same_chunk(previous, row)`` keeps a row with the previous one when a chunk is full (rows
    an expectation compares with each other must meet in one chunk); always at least one chunk,
    empty when there are no rows, so an empty cycle is validated as before."""
    columns = wh.column_names(sql, params)
    chunk: list[dict[str, Any]] = []
    for values in wh.iter_rows(sql, params, batch_size=min(chunk_rows or 10_000, 10_000)):
        row = dict(zip(columns, values))
        if chunk_rows and len(chunk) >= chunk_rows and not (same_chunk and same_chunk(chunk[-1], row)):
            yield chunk
            chunk = []
        chunk.append(row)
    yield chunk


def events_frame(wh: Warehouse, pay_cycle: str, settings: Settings, now: dt.datetime | None = None,
                 minor_units: Mapping[str, int | None] | None = None):
    """The cycle's events as one frame (see ``events_frames``)."""
    return next(events_frames(wh, pay_cycle, settings, now, minor_units, chunk_rows=None))


def events_frames(wh: Warehouse, pay_cycle: str, settings: Settings, now: dt.datetime | None = None,
                  minor_units: Mapping[str, int | None] | None = None, *, chunk_rows: int | None):
    """Every delivered event whose occurred_at lies in the cycle's window, with derived columns,
    in frames of ``chunk_rows``.

    ``latest_plausible_at``: an event cannot have happened after it reached us (its snapshot
    file's landing time; for Kafka ranges, the check time) nor after the check itself.
    """
    start, end = cycle_window(pay_cycle, settings)
    now_utc = naive_utc(now or dt.datetime.now(dt.UTC))
    units = minor_units if minor_units is not None else iso4217_minor_units()
    for rows in _chunks(wh, """select e.message_key, e.event_id, e.event_type, e.occurred_at, e.payment_id, e.amount,
                  e.currency, e.direction, e.account_iban, e.counterparty_iban, e.origin, e.source, f.landed_at
           from raw.payment_events as e
           left join raw.event_files as f on e.origin = 'file' and f.source_sha256 = e.source
           where e.occurred_at >= ? and e.occurred_at < ?
           order by e.message_key""", (start, end), chunk_rows):
        yield _events_frame(rows, now_utc, units)


def distinct_events(wh: Warehouse, pay_cycle: str, settings: Settings) -> int:
    """How many distinct event ids the cycle's deliveries carry (re-deliveries counted once)."""
    start, end = cycle_window(pay_cycle, settings)
    return int(wh.fetchone("select count(distinct event_id) from raw.payment_events "
                           "where occurred_at >= ? and occurred_at < ?", (start, end))[0])


def _events_frame(rows: list[dict[str, Any]], now_utc: dt.datetime, units: Mapping[str, int | None]):
    for r in rows:
        r["dq_key"] = r["event_id"] if r["event_id"] not in (None, "") else r["message_key"]
        occurred = r["occurred_at"]
        typed = isinstance(occurred, (dt.datetime, dt.date))
        # Only a value the warehouse did not already type as a timestamp needs parsing to prove
        # it is one: dateutil over every row was a third of the gate at 40,000 payments a day.
        r["occurred_at_text"] = None if typed or occurred is None else str(occurred)
        delivered = naive_utc(r.pop("landed_at", None))
        reference = min(delivered, now_utc) if delivered is not None else now_utc
        r["latest_plausible_at"] = reference + FUTURE_TOLERANCE
        r["occurred_at_detail"] = (
            f"occurred_at {occurred.isoformat() if typed else occurred} UTC is after "
            f"{'its delivery' if delivered is not None and delivered <= now_utc else 'the check'} at "
            f"{reference.isoformat(timespec='seconds')} UTC")
        r["amount_text"] = amount_text(r["amount"])
        r["amount_scale"] = amount_scale(r["amount"])
        r["currency_minor_units"] = units.get(r["currency"]) if r["currency"] else None
        r["amount_detail"] = _amount_detail(r)
        r["account_iban_shaped"] = None if r["account_iban"] is None else iban_shaped(r["account_iban"])
        r["account_iban_checksum_ok"] = iban_checksum_ok(r["account_iban"])
        r["counterparty_iban_checksum_ok"] = iban_checksum_ok(r["counterparty_iban"])
    frame = _frame(rows, EVENT_COLUMNS)
    rows.clear()
    _int_column(frame, "amount_scale")
    _int_column(frame, "currency_minor_units")
    _time_column(frame, "occurred_at")
    _time_column(frame, "latest_plausible_at")
    return frame


LINE_COLUMNS = ("dq_key", "bank_line_id", "source_sha256", "source_file", "position", "statement_key",
                "account_iban", "currency", "currency_minor_units", "booking_date", "booking_date_text",
                "value_date", "amount", "amount_text", "amount_scale", "bank_reference", "end_to_end_id",
                "counterparty_iban", "counterparty_iban_checksum_ok", "entry_status", "amount_detail",
                "delivery_rank")


def statement_lines_frame(wh: Warehouse, pay_cycle: str, minor_units: Mapping[str, int | None] | None = None):
    """The cycle's booked line deliveries as one frame (see ``statement_lines_frames``)."""
    return next(statement_lines_frames(wh, pay_cycle, minor_units, chunk_rows=None))


def statement_lines_frames(wh: Warehouse, pay_cycle: str, minor_units: Mapping[str, int | None] | None = None,
                           *, chunk_rows: int | None):
    """Every delivery of a booked line with booking_date = the cycle (what staging reads), in
    frames of ``chunk_rows``; the deliveries of one account's bank reference stay in one frame
    (the staged suite checks that reference is booked once per account and day).

    Pending and information-only entries are not reconciled, so they are not gated either.
    """
    cycle = parse_cycle(pay_cycle)
    units = minor_units if minor_units is not None else iso4217_minor_units()
    chunked = chunk_rows is not None and (wh.fetchone(
        "select count(*) from raw.statement_lines where booking_date = ? and entry_status = 'BOOK'",
        (cycle,))[0] > chunk_rows)
    # File order, as always; by account and reference only when the cycle needs several chunks.
    order = ("l.account_iban, l.bank_reference, l.source_sha256, l.position" if chunked
             else "l.source_sha256, l.position")
    sql = f"""with kept as (
               select l.source_sha256, l.position,
                      row_number() over (partition by l.bank_line_id
                                         order by {bank_line_delivery_order_sql('l', 's')}) as delivery_rank
               from raw.statement_lines as l
               left join raw.statements as s on s.statement_key = l.statement_key
               where {bank_line_is_booked_sql('l')} and l.booking_date = ?
           )
           select l.bank_line_id, l.source_sha256, l.source_file, l.position, l.statement_key, l.account_iban,
                  l.currency, l.booking_date, l.value_date, l.amount, l.bank_reference, l.end_to_end_id,
                  l.counterparty_iban, l.entry_status, k.delivery_rank
           from raw.statement_lines as l
           left join kept as k on k.source_sha256 = l.source_sha256 and k.position = l.position
           where l.booking_date = ? and l.entry_status = 'BOOK'
           order by {order}"""

    def same_reference(previous: dict[str, Any], row: dict[str, Any]) -> bool:
        return row["bank_reference"] is not None and (previous["account_iban"], previous["bank_reference"]) == (
            row["account_iban"], row["bank_reference"])

    for rows in _chunks(wh, sql, (cycle, cycle), chunk_rows if chunked else None, same_reference):
        yield _lines_frame(rows, units)


def _lines_frame(rows: list[dict[str, Any]], units: Mapping[str, int | None]):
    for r in rows:
        r["dq_key"] = r["bank_line_id"] or f"{r['source_file']}#{r['position']}"
        r["booking_date_text"] = r["booking_date"].isoformat() if r["booking_date"] else None
        r["amount_text"] = amount_text(r["amount"])
        r["amount_scale"] = amount_scale(r["amount"])
        r["currency_minor_units"] = units.get(r["currency"]) if r["currency"] else None
        r["amount_detail"] = _amount_detail(r)
        r["counterparty_iban_checksum_ok"] = iban_checksum_ok(r["counterparty_iban"])
    frame = _frame(rows, LINE_COLUMNS)
    rows.clear()
    _int_column(frame, "amount_scale")
    _int_column(frame, "currency_minor_units")
    return frame


def staged_lines_frame(lines):
    """The lines stg_bank_lines will keep: the delivery its rules rank first (``delivery_rank``
    1, from macros/delivery_rules.sql); lines a blocked cycle holds back are still judged here."""
    if lines.empty:
        return lines.copy()
    return lines[[rank == 1 for rank in lines["delivery_rank"]]].reset_index(drop=True)


STATEMENT_COLUMNS = ("dq_key", "statement_key", "source_sha256", "statement_index", "original_name",
                     "account_iban", "account_iban_shaped", "account_iban_checksum_ok", "currency", "statement_date",
                     "opening_balance",
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


# Every delivered statement with the pay cycle stg_statements gives it (``statement_date``).
_STATEMENTS_DATED = f"""
    with last_booking as (
        select statement_key, max(booking_date) as last_booking_date
        from raw.statement_lines group by statement_key
    ),
    dated as (
        select s.statement_key, s.source_sha256, s.statement_index, s.account_iban, s.currency,
               s.opening_balance, s.closing_balance, s.movements, s.balanced, s.statement_id,
               s.opening_date, s.closing_date, f.original_name,
               {statement_pay_cycle_sql('s', 'b.last_booking_date')} as statement_date
        from raw.statements as s
        left join raw.statement_files as f on f.source_sha256 = s.source_sha256
        left join last_booking as b on b.statement_key = s.statement_key
    )
    select * from dated"""


def statement_history(wh: Warehouse, pay_cycle: str, days_back: int = 366) -> StatementHistory:
    cycle = parse_cycle(pay_cycle)
    rows = wh.fetch_dicts(
        f"""{_STATEMENTS_DATED}
           where statement_date between ? and ?
           order by statement_date, source_sha256, statement_index""",
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
        extra = wh.fetch_dicts(f"{_STATEMENTS_DATED} where statement_key in ({marks})", tuple(sorted(missing)))
        mine.extend(extra)
    findings: dict[tuple[str, int], list[str]] = {}
    for f in wh.fetch_dicts(
            "select source_sha256, statement_index, code, message from raw.statement_findings "
            "where code = 'control_total_mismatch'"):
        findings.setdefault((f["source_sha256"], f["statement_index"]), []).append(f["message"])
    for r in mine:
        name = r.get("original_name") or r["source_sha256"][:12]
        r["dq_key"] = f"{r['account_iban']} {r['statement_date'] or '?'} ({name}#{r['statement_index']})"
        r["account_iban_shaped"] = None if r["account_iban"] is None else iban_shaped(r["account_iban"])
        r["account_iban_checksum_ok"] = iban_checksum_ok(r["account_iban"])
        gap = balance_gap(r["opening_balance"], r["movements"] or Decimal(0), r["closing_balance"])
        if r["balanced"] is False and gap is not None:
            r["balance_proof_detail"] = (
                f"opening {money(r['opening_balance'])} + movements {money(r['movements'])} = "
                f"{money(r['closing_balance'] - gap)}, but closing is {money(r['closing_balance'])} "
                f"(difference {money(gap)})")
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
    """The statement this one continues: another of the same day that closes where it opens
    (the previous page of a paginated statement), else the account's statement of the latest
    earlier day; among several that day, one that connects when there is one (an intraday
    report and the day's statement both close it)."""
    day = stmt["statement_date"]
    if day is None:
        return None
    same_account = [r for r in rows if r["account_iban"] == stmt["account_iban"]
                    and (r["currency"] == stmt["currency"] or r["currency"] is None or stmt["currency"] is None)
                    and r["statement_date"] is not None and r["closing_balance"] is not None]
    for r in same_account:
        if r["statement_date"] == day and r["closing_balance"] == stmt["opening_balance"] \
                and (r["source_sha256"], r.get("statement_index")) != (stmt["source_sha256"], stmt.get("statement_index")):
            return r
    earlier = [r for r in same_account if r["statement_date"] < day]
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
    """The cycle's reconciliation links as one frame (see ``links_frames``)."""
    return next(links_frames(wh, pay_cycle, chunk_rows=None))


def links_frames(wh: Warehouse, pay_cycle: str, *, chunk_rows: int | None):
    """The cycle's reconciliation links, with how many distinct matches each bank line is in
    (over this and earlier cycles: a booking settles one thing, once), in frames of about
    ``chunk_rows``; a match's links stay in one frame (the suite checks each link is unique)."""
    cycle = parse_cycle(pay_cycle)
    sql = """with counted as (
               select bank_line_id, count(distinct match_id) as n
               from marts.fct_reconciliation_links
               where pay_cycle <= ? and bank_line_id in (
                   select bank_line_id from marts.fct_reconciliation_links where pay_cycle = ?)
               group by bank_line_id
           )
           select l.match_id, l.payment_id, l.bank_line_id, l.rule_id, l.confidence, l.pay_cycle,
                  case when l.bank_line_id is null or l.bank_line_id = '' then null
                       else coalesce(c.n, 0) end as bank_line_match_count
           from marts.fct_reconciliation_links as l
           left join counted as c on c.bank_line_id = l.bank_line_id
           where l.pay_cycle = ?
           order by l.match_id, l.payment_id, l.bank_line_id"""
    for rows in _chunks(wh, sql, (cycle, cycle, cycle), chunk_rows,
                        lambda previous, row: previous["match_id"] == row["match_id"]):
        for r in rows:
            r["dq_key"] = f"{r['match_id']}/{r['payment_id']}/{r['bank_line_id']}"
        frame = _frame(rows, LINK_COLUMNS)
        rows.clear()
        _int_column(frame, "bank_line_match_count")
        yield frame
