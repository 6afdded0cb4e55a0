"""What ``recon run`` does: pick up new input, then build pay cycles in order through Dagster.

The pickup uses the same functions as the sensors (inbox, SFTP, Kafka) and the builds
execute the same jobs the UI shows, against the instance in ``$RECON_HOME/dagster``, so a
run from the command line appears in the UI like any other.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from recon_pipeline.cycles import cycle_of, cycles_between
from recon_pipeline.dagster_instance import prepare_instance
from recon_pipeline.run_tags import resolution_tags, trigger_tags  # noqa: F401 - resolution_tags for callers
from recon_pipeline.settings import Settings
from recon_pipeline.sources import pickup as _pickup
from recon_pipeline.sources.pickup import PickupReport
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.warehouse.source_tables import ensure_source_tables

# The command line prints one line per cycle; the full event log is in the instance (and the UI).
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": os.environ.get("RECON_LOG_LEVEL", "CRITICAL")}}}}


PID_TAG = "recon/pid"
HOST_TAG = "recon/host"


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
        cycles.add(cycle_of(hour.replace(tzinfo=dt.timezone.utc), settings.timezone, settings.cutoff))
        # A cut-off that is not on the hour splits an hour across two cycles.
        if settings.cutoff.minute or settings.cutoff.second:
            cycles.add(cycle_of((hour + dt.timedelta(minutes=59, seconds=59)).replace(tzinfo=dt.timezone.utc),
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


def _load_definitions(settings: Settings, echo: Callable[[str], None] = print):
    from recon_pipeline.dbt_setup import apply_dbt_env, ensure_manifest

    prepare_instance(settings)
    apply_dbt_env(settings)
    try:
        ensure_manifest()
    except RuntimeError as exc:
        raise PipelineError(str(exc)) from None
    from dagster import DagsterInstance

    from recon_pipeline.definitions import build_definitions

    instance = DagsterInstance.get()
    for note in fail_dead_runs(instance):
        echo(note)
    return build_definitions(settings), instance


def _run_tags() -> dict[str, str]:
    """Who runs this: the next `recon run` can tell a live run from one whose process died."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_dead_runs(instance) -> list[str]:
    """Mark failed the runs `recon run` started on this host whose process is gone.

    A run killed mid-way (SIGKILL, OOM, a reboot) never reports its end, so it would stay
    STARTED in the instance forever holding its steps' pool slots, and every later run would
    wait behind it. Runs started elsewhere (the daemon, the UI) are left to Dagster's run monitoring.
    """
    from dagster import DagsterRunStatus, RunsFilter

    notes = []
    host = socket.gethostname()
    runs = instance.get_runs(filters=RunsFilter(
        statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING], tags={HOST_TAG: host}))
    for run in runs:
        pid = run.tags.get(PID_TAG, "")
        if not pid.isdigit() or int(pid) == os.getpid() or _process_alive(int(pid)):
            continue
        message = f"process {pid} that ran it is gone (killed mid-run); marked failed by the next recon run"
        instance.report_run_failed(run, message=message)
        # Its steps still hold their pool slots (recon_cycles, recon_ingestion: one each), and a
        # dead process never gives them back: every later run would wait for them forever.
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        notes.append(f"run {run.run_id[:8]} ({run.job_name}) was left STARTED: {message}")
    return notes


def run_pipeline(settings: Settings, through: dt.date, only: dt.date | None = None,
                 echo: Callable[[str], None] = print, tags: dict[str, str] | None = None) -> list[CycleResult]:
    """Pick up, ingest, then build each planned cycle in order; stop at the first failed cycle.

    ``tags`` say why the runs ran (default: ``recon/trigger: recon run``)."""
    from recon_pipeline.definitions import INGEST_JOB, build_definitions

    tags = tags or trigger_tags("recon run")
    check_buildable(settings, through)
    with open_warehouse(settings):
        pass  # fail fast, with one line, when the warehouse cannot be opened
    defs, instance = _load_definitions(settings, echo)
    pickup = pick_up(settings)
    echo(f"picked up {pickup.statement_files_new} new statement file(s), {pickup.event_files_new} new "
         f"event file(s), {pickup.kafka_messages} Kafka message(s)")
    for note in pickup.notes:
        echo(note)
    ingest = defs.resolve_job_def(INGEST_JOB).execute_in_process(
        instance=instance, raise_on_error=False, run_config=QUIET_RUN_CONFIG, tags={**tags, **_run_tags()})
    if not ingest.success:
        raise PipelineError(f"ingestion failed: {_first_error(ingest)}")
    _echo_ingest(ingest, echo)
    _restore_decisions(settings, echo)
    adopted = adopt_first_cycle(settings, [*data_cycles(settings), through])
    if adopted.first_cycle != settings.first_cycle:
        echo(f"pay cycles start at {adopted.first_cycle} (the earliest with data; "
             f"recorded in {adopted.first_cycle_record})")
        settings, defs = adopted, build_definitions(adopted)  # the partitions start there now
    force = frozenset({only.isoformat()}) if only is not None else frozenset()
    return _build(settings, defs, instance, plan_cycles(settings, through, only), echo, force, tags)


def _restore_decisions(settings: Settings, echo: Callable[[str], None]) -> None:
    """Operator decisions live in the landing zone too: a new warehouse gets them back."""
    from recon_pipeline.operators.mirror import restore_decisions

    with open_warehouse(settings) as wh:
        restored = restore_decisions(wh, settings.landing_dir)
    if restored:
        echo(f"restored {restored} operator decision(s) from {settings.landing_dir / 'decisions'}")


def rebuild_cycles(settings: Settings, cycles: list[str], echo: Callable[[str], None] = print,
                   tags: dict[str, str] | None = None) -> list[CycleResult]:
    """Rebuild already-ingested cycles (after an operator decision), in order.

    Pass ``resolution_tags(exception_id, user, action)`` so the runs say which decision started
    them (default: ``recon/trigger: rebuild``)."""
    defs, instance = _load_definitions(settings, echo)
    return _build(settings, defs, instance, cycles, echo, frozenset(cycles), tags or trigger_tags("rebuild"))


def _build(settings: Settings, defs, instance, cycles: list[str], echo: Callable[[str], None],
           force: frozenset[str] = frozenset(), tags: dict[str, str] | None = None) -> list[CycleResult]:
    """Build cycles in order. A cycle whose inputs are unchanged since its last build (same
    fingerprint, close pack on disk) is not rebuilt: re-running gives the same result anyway,
    and a daily `recon run --through today` then only pays for what is new."""
    from recon_pipeline.definitions import CLOSE_JOB
    from recon_pipeline.warehouse.cycle_builds import cycle_fingerprint, last_fingerprint, record_build

    results = []
    close_job = defs.resolve_job_def(CLOSE_JOB)
    changed_before = False
    for cycle in cycles:
        fingerprint = cycle_fingerprint(settings, cycle)
        unchanged = (not changed_before and cycle not in force
                     and last_fingerprint(settings, cycle) == fingerprint
                     and settings.close_pack_path(cycle).is_file())
        if unchanged:
            results.append(CycleResult(cycle, True, settings.close_pack_path(cycle), cycle_summary(settings, cycle)))
            echo(format_cycle_line(results[-1]) + " (unchanged, not rebuilt)")
            continue
        changed_before = True  # every later cycle starts from this one's results
        # dbt's own log goes to the run's captured output (and the UI), not to the terminal.
        sink = io.StringIO() if os.environ.get("RECON_LOG_LEVEL", "CRITICAL") != "DEBUG" else None
        with contextlib.redirect_stdout(sink) if sink is not None else contextlib.nullcontext():
            outcome = close_job.execute_in_process(instance=instance, partition_key=cycle, raise_on_error=False,
                                                   run_config=QUIET_RUN_CONFIG, tags={**(tags or {}), **_run_tags()})
        if not outcome.success:
            blocked = blocking_failures(settings, cycle)
            if not blocked:
                raise PipelineError(f"pay cycle {cycle} failed: {_first_error(outcome)}")
            # Bad input stops matching for this cycle only; later cycles carry its items forward.
            results.append(CycleResult(cycle, False, None, error=f"blocked by data-quality checks: {blocked}"))
            echo(f"cycle {cycle}: BLOCKED by data-quality checks ({blocked}); no close pack — "
                 f"see dq.check_results and the run in the Dagster UI")
            continue
        record_build(settings, cycle, fingerprint, run_id=outcome.run_id)
        results.append(CycleResult(cycle, True, settings.close_pack_path(cycle), cycle_summary(settings, cycle)))
        echo(format_cycle_line(results[-1]))
    return results


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


def _echo_ingest(outcome, echo: Callable[[str], None]) -> None:
    for event in outcome.all_events:
        if event.event_type_value != "ASSET_MATERIALIZATION":
            continue
        mat = event.event_specific_data.materialization
        meta = {k: v.value for k, v in mat.metadata.items()}
        name = mat.asset_key.to_user_string()
        if name == "raw_bank_statements":
            echo(f"statements: {meta.get('files_loaded', 0)} file(s) loaded with {meta.get('lines_loaded', 0)} "
                 f"line(s), {meta.get('files_quarantined', 0)} quarantined")
        elif name == "raw_payment_events":
            echo(f"events: {meta.get('events_loaded', 0)} message(s) loaded, "
                 f"{meta.get('messages_quarantined', 0)} quarantined")


def _first_error(outcome) -> str:
    """The root cause of the first failed step, as one line (the full trace stays in the UI)."""
    for event in outcome.all_events:
        if event.is_failure and event.event_specific_data is not None:
            error = getattr(event.event_specific_data, "error", None)
            while error is not None and getattr(error, "cause", None) is not None:
                error = error.cause
            if error is not None:
                lines = [ln.strip() for ln in (error.message or "").splitlines() if ln.strip()]
                # The whole first line: a failed dbt test names its keys there (dbt_failures).
                return lines[0] if lines else error.cls_name or "unknown error"
    return "unknown error (see the run in the Dagster UI)"
