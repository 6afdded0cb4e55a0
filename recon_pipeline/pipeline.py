"""What ``recon run`` decides, without Dagster: pick up new input, which pay cycles to build
and in what order, and how a built cycle reads on one line.

The pickup uses the same functions as the sensors (inbox, SFTP, Kafka). The runs themselves
go through Dagster in orchestration/runner.py, which calls these.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

from recon_pipeline.cycles import cycle_of
from recon_pipeline.settings import Settings
from recon_pipeline.sources import pickup as _pickup
from recon_pipeline.sources.pickup import PickupReport
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.warehouse.source_tables import ensure_source_tables


class PipelineError(RuntimeError):
    """The pipeline could not run; the message is the one-line reason for the user."""


@dataclass
class CycleResult:
    pay_cycle: str
    success: bool
    close_pack: Path | None
    summary: list[dict] = field(default_factory=list)
    error: str | None = None


def pick_up(settings: Settings) -> PickupReport:
    """Land whatever is new at the configured sources: the domain's pick-up, shared with the sensors."""
    try:
        return _pickup.pick_up(settings)
    except _pickup.PickupError as exc:
        raise PipelineError(str(exc)) from None


def data_cycles(settings: Settings) -> list[dt.date]:
    """Pay cycles that hold any bank line or payment event (days with nothing new are skipped)."""
    with open_warehouse(settings) as wh:
        ensure_source_tables(wh)
        booking = {r[0] for r in wh.fetchall(
            "select distinct booking_date from raw.statement_lines "
            "where entry_status = 'BOOK' and booking_date is not null")}
        hours = wh.fetchall(
            "select distinct date_trunc('hour', occurred_at) from raw.payment_events")
    cycles = set(booking)
    for (hour,) in hours:
        cycles.add(cycle_of(hour.replace(tzinfo=dt.UTC), settings.timezone, settings.cutoff))
        # A cut-off that is not on the hour splits an hour across two cycles.
        if settings.cutoff.minute or settings.cutoff.second:
            cycles.add(cycle_of((hour + dt.timedelta(minutes=59, seconds=59)).replace(tzinfo=dt.UTC),
                                settings.timezone, settings.cutoff))
    return sorted(cycles)


def built_cycles(settings: Settings) -> list[dt.date]:
    with open_warehouse(settings) as wh:
        if not wh.table_exists("marts", "rpt_close_summary"):
            return []
        return [r[0] for r in wh.fetchall("select distinct pay_cycle from marts.fct_payment_reconciliation "
                                          "union select distinct pay_cycle from marts.fct_bank_line_reconciliation "
                                          "union select distinct pay_cycle from marts.rpt_close_summary")]


def check_buildable(settings: Settings, cycle: dt.date) -> None:
    """A cycle can be built when it lies between first_cycle and tomorrow (today's cycle may be open).

    Only a first_cycle named in recon.yaml is a limit; one derived from the data moves earlier.
    """
    if settings.first_cycle_configured and cycle < settings.first_cycle:
        raise PipelineError(f"pay cycle {cycle} is before first_cycle {settings.first_cycle} in the configuration")
    latest_allowed = dt.date.today() + dt.timedelta(days=1)
    if cycle > latest_allowed:
        raise PipelineError(f"pay cycle {cycle} is in the future (latest buildable cycle is {latest_allowed})")


def adopt_first_cycle(settings: Settings, cycles: list[dt.date]) -> Settings:
    """Settings whose first_cycle covers ``cycles``, recorded in ``$RECON_HOME/first_cycle``.

    When recon.yaml names first_cycle it is kept as it is. Otherwise the pay-cycle partitions
    start at the earliest cycle with data (see settings.resolve_first_cycle); the record only
    ever moves earlier, so cycles already built keep their partitions.
    """
    if settings.first_cycle_configured or not cycles:
        return settings
    recorded = settings.first_cycle_record.is_file()
    first = min([*cycles, settings.first_cycle]) if recorded else min(cycles)
    if recorded and first == settings.first_cycle:
        return settings
    settings.first_cycle_record.write_text(first.isoformat() + "\n", encoding="utf-8")
    return replace(settings, first_cycle=first)


def plan_cycles(settings: Settings, through: dt.date, only: dt.date | None = None) -> list[str]:
    """Cycles to build, in order: every cycle with data up to ``through`` and ``through`` itself.

    With ``only`` (``--cycle``), earlier cycles with data that were never built are built
    first, because a cycle's matching starts from what earlier cycles left open.
    """
    check_buildable(settings, through)
    wanted = {c for c in data_cycles(settings) if settings.first_cycle <= c <= through}
    wanted.add(through)
    if only is not None:
        done = set(built_cycles(settings))
        wanted = {c for c in wanted if c == only or (c < only and c not in done)}
    return [c.isoformat() for c in sorted(wanted)]


def blocking_failures(settings: Settings, cycle: str) -> str:
    """Names (and failing counts) of the blocking checks that failed for a cycle, or ''."""
    with open_warehouse(settings) as wh:
        if not wh.table_exists("dq", "check_results"):
            return ""
        rows = wh.fetchall("select check_name, failing_count from dq.check_results "
                           "where pay_cycle = ? and severity = 'blocking' and not passed order by check_name",
                           (dt.date.fromisoformat(cycle),))
    return ", ".join(f"{name} ({count})" for name, count in rows)


def raise_for_blocked(results: list[CycleResult]) -> None:
    blocked = [r for r in results if not r.success]
    if blocked:
        raise PipelineError("; ".join(f"pay cycle {r.pay_cycle} {r.error}" for r in blocked))


def cycle_summary(settings: Settings, cycle: str) -> list[dict]:
    with open_warehouse(settings) as wh:
        return wh.fetch_dicts("select * from marts.rpt_close_summary where pay_cycle = ? order by account_iban",
                              (dt.date.fromisoformat(cycle),))


def proof_phrase(rows: list[dict]) -> str:
    """The proofs in words: "OK" only when every account has a statement that balances and a
    bank-to-books proof with nothing unexplained; otherwise which accounts fail and why, and how
    many did prove (never the word "OK" beside an account that proved nothing)."""
    if not rows:
        return "no accounts (no balance proof)"
    broken = [r["account_iban"] for r in rows if r["balance_proof_ok"] is False]
    missing = [r["account_iban"] for r in rows if r.get("statement_status", "") == "no statement"
               or (r["balance_proof_ok"] is None and r["account_iban"] not in broken)]
    unexplained = [r["account_iban"] for r in rows if r.get("unexplained_difference") not in (None, 0)]
    failing = set(broken) | set(missing) | set(unexplained)
    if not failing:
        return "balance proof OK"
    parts = []
    if broken:
        parts.append(f"balance proof BROKEN for {', '.join(broken)}")
    if missing:
        parts.append(f"no statement (no balance proof) for {', '.join(missing)}")
    if unexplained:
        parts.append(f"bank-to-books difference UNEXPLAINED for {', '.join(unexplained)}")
    proven = len(rows) - len(failing)
    if proven:
        parts.append(f"{proven} other account(s) proven")
    return "; ".join(parts)


def format_cycle_line(result: CycleResult) -> str:
    rows = result.summary
    matched = sum(int(r["payments_matched_count"]) + int(r["bank_lines_matched_count"]) for r in rows)
    partial = sum(int(r["payments_partial_match_count"]) + int(r["bank_lines_partial_match_count"]) for r in rows)
    unmatched = sum(int(r["payments_unmatched_count"]) + int(r["bank_lines_unmatched_count"]) for r in rows)
    # the open exceptions, as the pack's exceptions and sign-off sheets count them
    exceptions = sum(int(r.get("open_exception_count") or 0) for r in rows)
    proof = proof_phrase(rows)
    return (f"cycle {result.pay_cycle}: {len(rows)} account(s), {matched} matched, {partial} partial, "
            f"{unmatched} in flight, {exceptions} open exception(s); {proof} → {result.close_pack}")
