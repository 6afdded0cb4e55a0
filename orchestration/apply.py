"""Bringing the built pay cycles up to date after a decision, at the least cost that is still right.

A resolution takes effect from its effective cycle D: in D it changes only the exception
slice (the resolution log → fct_exceptions → the marts and reports that read it), because
items an operator closes leave matching from the next cycle on. So when the warehouse's
intermediate tables still hold D's state (D is the latest built cycle and the latest close
run was D's, and it succeeded), only that slice and D's close pack are rebuilt. Otherwise —
a manual match (it changes matching itself), or a decision whose effect runs through later
cycles — D and every later built cycle are rebuilt in order, with a progress line per cycle.

The domain records the decision and says what it asks for (recon_pipeline/operators/rebuilds.py);
this module runs it.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable

from dagster import DagsterInstance, DagsterInvalidSubsetError, DagsterRunStatus, RunsFilter

from orchestration.instance import prepare_instance
from orchestration.jobs import CLOSE_JOB
from orchestration.runner import execute, load_definitions, rebuild_cycles
from recon_pipeline.dbt_setup import MANIFEST_PATH, build_models
from recon_pipeline.operators.rebuilds import RebuildRequest, Recorded, cycles_to_rebuild, slice_models
from recon_pipeline.pipeline import CycleResult, built_cycles, cycle_summary, format_cycle_line
from recon_pipeline.run_tags import trigger_tags
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.cycle_builds import cycle_fingerprint, record_build


def apply_recorded(settings: Settings, recorded: Recorded, echo: Callable[[str], None] = print) -> str:
    """Run the rebuild a recorded decision asks for; the decision's line for the operator."""
    apply_request(settings, recorded.rebuild, echo)
    return recorded.message


def apply_request(settings: Settings, request: RebuildRequest, echo: Callable[[str], None] = print) -> None:
    cycles = cycles_to_rebuild(request, built_cycles(settings))
    if not cycles:
        return
    tags = trigger_tags(request.trigger, **request.details)
    started = time.monotonic()
    echo(f"decision recorded; bringing {len(cycles)} built pay cycle(s) from {cycles[0]} up to date")
    if request.only_exceptions and len(cycles) == 1 and _holds_state_of(settings, cycles[0]):
        if _rebuild_exception_slice(settings, cycles[0].isoformat(), echo, tags):
            echo(f"decision applied in {time.monotonic() - started:.1f}s")
            return
    echo(f"rebuilding {len(cycles)} pay cycle(s) from {cycles[0]} so they show the decision")
    rebuild_cycles(settings, [c.isoformat() for c in cycles], echo=echo, tags=tags)
    echo(f"decision applied in {time.monotonic() - started:.1f}s")


def _holds_state_of(settings: Settings, cycle: dt.date) -> bool:
    """True when the intermediate tables hold ``cycle``'s state: it is the latest built cycle
    and the latest close run (from the CLI, the UI or the schedule) built it successfully."""
    if max(built_cycles(settings)) != cycle:
        return False
    prepare_instance(settings)
    runs = DagsterInstance.get().get_runs(filters=RunsFilter(job_name=CLOSE_JOB), limit=1)
    return bool(runs) and runs[0].status == DagsterRunStatus.SUCCESS \
        and runs[0].tags.get("dagster/partition") == cycle.isoformat()


def _rebuild_exception_slice(settings: Settings, cycle: str, echo: Callable[[str], None],
                             tags: dict[str, str]) -> bool:
    defs, instance = load_definitions(settings, echo)
    names = sorted(slice_models(json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))))
    fingerprint = cycle_fingerprint(settings, cycle)
    echo(f"rebuilding the exceptions slice of pay cycle {cycle}: {len(names)} dbt model(s)")
    ok, _last_line = build_models(settings, cycle, names, progress=lambda line: echo(f"  [{cycle}] {line}"))
    if not ok:
        return False  # the caller falls back to a full rebuild of the cycle
    # The pack (and what reads it) through the close job, so the run shows in the UI with its tags.
    keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys()
            if k.path[-1] in ("close_pack", "portal_snapshot")]
    try:
        outcome = execute(defs.resolve_job_def(CLOSE_JOB), instance, echo, cycle, partition_key=cycle,
                          asset_selection=keys, tags=tags)
    except DagsterInvalidSubsetError:
        return False  # the pack can't be selected on its own here: the caller rebuilds the whole cycle
    if not outcome.success:
        return False  # the caller falls back to a full rebuild of the cycle
    record_build(settings, cycle, fingerprint, run_id=outcome.run_id, how="exceptions slice")
    result = CycleResult(cycle, True, settings.close_pack_path(cycle), cycle_summary(settings, cycle))
    echo(format_cycle_line(result) + f" (exceptions slice: {len(names)} model(s) and the close pack)")
    return True
