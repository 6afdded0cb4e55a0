"""What ``recon run`` does around Dagster: pick up, ingest, then build pay cycles in order,
each through the same jobs the UI shows, in-process, against ``$RECON_HOME/dagster``.

A run from the command line appears in the UI like any other. The terminal gets one line per
step as it starts and ends (read from the run's event stream while it executes) and one line
per cycle; dbt's own log stays in the run's captured output and the UI.
What to build and how a cycle's result reads are the domain's (recon_pipeline/pipeline.py).
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from dagster import DagsterInstance, Definitions

from orchestration.dead_runs import fail_dead_runs, run_tags
from orchestration.definitions import build_definitions
from orchestration.instance import prepare_instance
from orchestration.jobs import CLOSE_JOB, INGEST_JOB
from orchestration.partitions import pay_cycle_partitions
from recon_pipeline.dbt_setup import apply_dbt_env, ensure_manifest
from recon_pipeline.operators.mirror import restore_decisions
from recon_pipeline.pipeline import (
    CycleResult,
    PipelineError,
    adopt_first_cycle,
    blocking_failures,
    check_buildable,
    cycle_summary,
    data_cycles,
    format_cycle_line,
    pick_up,
    plan_cycles,
)
from recon_pipeline.run_tags import trigger_tags
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.warehouse.cycle_builds import cycle_fingerprint, last_fingerprint, record_build

Echo = Callable[[str], None]

# The command line prints its own lines; the full event log is in the instance (and the UI).
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": os.environ.get("RECON_LOG_LEVEL", "CRITICAL")}}}}

# dbt reports each model it built as a materialization: a line every so many, so a long
# build shows it is moving.
DBT_PROGRESS_EVERY = 25


def load_definitions(settings: Settings, echo: Echo = print) -> tuple[Definitions, DagsterInstance]:
    """The definitions for these settings and the instance they run against (made ready)."""
    prepare_instance(settings)
    apply_dbt_env(settings)
    try:
        ensure_manifest()
    except RuntimeError as exc:
        raise PipelineError(str(exc)) from None
    instance = DagsterInstance.get()
    for note in fail_dead_runs(instance, by="the next recon run"):
        echo(note)
    return build_definitions(settings), instance


def check_partitions(settings: Settings, cycles: list[str]) -> None:
    """Every cycle to build must be a partition Dagster knows: one line naming the range if not."""
    partitions = pay_cycle_partitions(settings)
    keys = partitions.get_partition_keys()
    for cycle in cycles:
        if not partitions.has_partition_key(cycle):
            span = f"{keys[0]} to {keys[-1]}" if keys else "none yet"
            raise PipelineError(f"pay cycle {cycle} is not a pay-cycle partition (the partitions run from {span}, "
                                f"in {settings.timezone}; today's open cycle is the latest)")


def execute(job, instance: DagsterInstance, echo: Echo, label: str, **kwargs):
    """Run a job in-process with a progress line per step; dbt's console output is kept off the
    terminal (it is in the run's captured logs) unless RECON_LOG_LEVEL=DEBUG."""
    run_id = str(uuid.uuid4())
    terminal = sys.stdout
    started: dict[str, float] = {}
    built: dict[str, int] = {}

    def say(line: str) -> None:
        with contextlib.redirect_stdout(terminal):
            echo(line)

    def on_event(entry) -> None:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            return
        step, kind = event.step_key, event.event_type_value
        if kind == "STEP_START":
            started[step] = entry.timestamp
            say(f"  [{label}] {step}: started")
        elif kind == "ASSET_MATERIALIZATION":
            built[step] = built.get(step, 0) + 1
            if built[step] % DBT_PROGRESS_EVERY == 0:
                say(f"  [{label}] {step}: {built[step]} asset(s) materialized")
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            took = entry.timestamp - started.get(step, entry.timestamp)
            outcome = "done" if kind == "STEP_SUCCESS" else "FAILED"
            count = f", {built[step]} asset(s)" if built.get(step, 0) > 1 else ""
            say(f"  [{label}] {step}: {outcome} in {took:.1f}s{count}")

    instance.add_event_listener(run_id, on_event)
    sink = io.StringIO() if os.environ.get("RECON_LOG_LEVEL", "CRITICAL") != "DEBUG" else None
    with contextlib.redirect_stdout(sink) if sink is not None else contextlib.nullcontext():
        return job.execute_in_process(instance=instance, run_id=run_id, raise_on_error=False,
                                      run_config=QUIET_RUN_CONFIG, **kwargs)


def run_pipeline(settings: Settings, through, only=None, echo: Echo = print,
                 tags: dict[str, str] | None = None) -> list[CycleResult]:
    """Pick up, ingest, then build each planned cycle in order; stop at the first failed cycle.

    ``tags`` say why the runs ran (default: ``recon/trigger: recon run``)."""
    tags = tags or trigger_tags("recon run")
    check_buildable(settings, through)
    # Before any work: the date must be a partition (a first_cycle that follows the data moves
    # back to it, so only a configured start limits it from below).
    check_partitions(settings if settings.first_cycle_configured
                     else replace(settings, first_cycle=min(settings.first_cycle, through)), [through.isoformat()])
    with open_warehouse(settings):
        pass  # fail fast, with one line, when the warehouse cannot be opened
    defs, instance = load_definitions(settings, echo)
    pickup = pick_up(settings)
    echo(f"picked up {pickup.statement_files_new} new statement file(s), {pickup.event_files_new} new "
         f"event file(s), {pickup.kafka_messages} Kafka message(s)")
    for note in pickup.notes:
        echo(note)
    ingest = execute(defs.resolve_job_def(INGEST_JOB), instance, echo, "ingest", tags={**tags, **run_tags()})
    if not ingest.success:
        raise PipelineError(f"ingestion failed: {first_error(ingest)}")
    _echo_ingest(ingest, echo)
    _restore_decisions(settings, echo)
    adopted = adopt_first_cycle(settings, [*data_cycles(settings), through])
    if adopted.first_cycle != settings.first_cycle:
        echo(f"pay cycles start at {adopted.first_cycle} (the earliest with data; "
             f"recorded in {adopted.first_cycle_record})")
        settings, defs = adopted, build_definitions(adopted)  # the partitions start there now
    force = frozenset({only.isoformat()}) if only is not None else frozenset()
    return _build(settings, defs, instance, plan_cycles(settings, through, only), echo, force, tags)


def _restore_decisions(settings: Settings, echo: Echo) -> None:
    """Operator decisions live in the landing zone too: a new warehouse gets them back."""
    with open_warehouse(settings) as wh:
        restored = restore_decisions(wh, settings.landing_dir)
    if restored:
        echo(f"restored {restored} operator decision(s) from {settings.landing_dir / 'decisions'}")


def rebuild_cycles(settings: Settings, cycles: list[str], echo: Echo = print,
                   tags: dict[str, str] | None = None) -> list[CycleResult]:
    """Rebuild already-ingested cycles (after an operator decision), in order.

    Pass ``resolution_tags(exception_id, user, action)`` so the runs say which decision started
    them (default: ``recon/trigger: rebuild``)."""
    defs, instance = load_definitions(settings, echo)
    return _build(settings, defs, instance, cycles, echo, frozenset(cycles), tags or trigger_tags("rebuild"))


def _build(settings: Settings, defs: Definitions, instance: DagsterInstance, cycles: list[str], echo: Echo,
           force: frozenset[str] = frozenset(), tags: dict[str, str] | None = None) -> list[CycleResult]:
    """Build cycles in order. A cycle whose inputs are unchanged since its last build (same
    fingerprint, close pack on disk) is not rebuilt: re-running gives the same result anyway,
    and a daily `recon run --through today` then only pays for what is new."""
    check_partitions(settings, cycles)
    results = []
    close_job = defs.resolve_job_def(CLOSE_JOB)
    changed_before = False
    for number, cycle in enumerate(cycles, 1):
        fingerprint = cycle_fingerprint(settings, cycle)
        unchanged = (not changed_before and cycle not in force
                     and last_fingerprint(settings, cycle) == fingerprint
                     and settings.close_pack_path(cycle).is_file())
        if unchanged:
            results.append(CycleResult(cycle, True, settings.close_pack_path(cycle), cycle_summary(settings, cycle)))
            echo(format_cycle_line(results[-1]) + " (unchanged, not rebuilt)")
            continue
        changed_before = True  # every later cycle starts from this one's results
        echo(f"building pay cycle {cycle} ({number} of {len(cycles)})")
        began = time.monotonic()
        outcome = execute(close_job, instance, echo, cycle, partition_key=cycle,
                          tags={**(tags or {}), **run_tags()})
        if not outcome.success:
            blocked = blocking_failures(settings, cycle)
            if not blocked:
                raise PipelineError(f"pay cycle {cycle} failed: {first_error(outcome)}")
            # Bad input stops matching for this cycle only; later cycles carry its items forward.
            results.append(CycleResult(cycle, False, None, error=f"blocked by data-quality checks: {blocked}"))
            echo(f"cycle {cycle}: BLOCKED by data-quality checks ({blocked}); no close pack — "
                 f"see dq.check_results and the run in the Dagster UI")
            continue
        record_build(settings, cycle, fingerprint, run_id=outcome.run_id)
        results.append(CycleResult(cycle, True, settings.close_pack_path(cycle), cycle_summary(settings, cycle)))
        echo(format_cycle_line(results[-1]) + f" ({time.monotonic() - began:.0f}s)")
    return results


def _echo_ingest(outcome, echo: Echo) -> None:
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


def first_error(outcome) -> str:
    """The root cause of the first failed step, as one line (the full trace stays in the UI)."""
    for event in outcome.all_events:
        if event.is_failure and event.event_specific_data is not None:
            error = getattr(event.event_specific_data, "error", None)
            while error is not None and getattr(error, "cause", None) is not None:
                error = error.cause
            if error is not None:
                lines = [ln.strip() for ln in (error.message or "").splitlines() if ln.strip()]
                # The whole first line: a failed dbt test names its keys there (dbt_failures);
                # a Failure raised by an asset is its own description, without the class path.
                first = lines[0].removeprefix("dagster._core.definitions.events.Failure: ") if lines else ""
                return first or error.cls_name or "unknown error"
    return "unknown error (see the run in the Dagster UI)"


