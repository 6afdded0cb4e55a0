"""Bringing the built pay cycles up to date after a decision, at the least cost that is still right.

A resolution takes effect from its effective cycle D: in D it changes only the exception
slice (the resolution log → fct_exceptions → the marts and reports that read it), because
items an operator closes leave matching from the next cycle on. So when the warehouse's
intermediate tables still hold D's state (D is the latest built cycle and the latest close
run was D's, and it succeeded), only that slice and D's close pack are rebuilt. Otherwise —
a manual match (it changes matching itself), or a decision whose effect runs through later
cycles — D and every later built cycle are rebuilt in order, with a progress line per cycle.

Like ``recon_pipeline.pipeline``, this is a launcher: Dagster is imported inside functions.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import time
from typing import Callable

from recon_pipeline.run_tags import trigger_tags
from recon_pipeline.settings import Settings

# Where the slice starts, and the model through which a decision reaches matching (its
# filter is effective_cycle < the cycle, so in the decision's own cycle nothing changes there).
SLICE_SOURCE = "source.recon.ops.exception_resolutions"
MATCHING_ENTRY = "model.recon.int_closed_items"


def apply_from(settings: Settings, first: dt.date, echo: Callable[[str], None] = print,
               only_exceptions: bool = False, tags: dict[str, str] | None = None) -> None:
    """``tags`` say which decision the runs apply (``run_tags.resolution_tags``), for the Dagster UI."""
    from recon_pipeline.pipeline import built_cycles, rebuild_cycles

    cycles = sorted(c for c in built_cycles(settings) if c >= first)
    if not cycles:
        return
    started = time.monotonic()
    if only_exceptions and len(cycles) == 1 and _holds_state_of(settings, cycles[0]):
        if _rebuild_exception_slice(settings, cycles[0].isoformat(), echo, tags):
            echo(f"decision applied in {time.monotonic() - started:.1f}s")
            return
    echo(f"rebuilding {len(cycles)} pay cycle(s) from {cycles[0]} so they show the decision")
    rebuild_cycles(settings, [c.isoformat() for c in cycles], echo=echo, tags=tags)
    echo(f"decision applied in {time.monotonic() - started:.1f}s")


def slice_models(manifest: dict) -> list[str]:
    """dbt models whose rows in the decision's own cycle can change: everything downstream of
    the resolution log except through the path into matching."""
    children = manifest["child_map"]
    found: set[str] = set()
    todo = list(children.get(SLICE_SOURCE, []))
    while todo:
        node = todo.pop()
        if node in found or node == MATCHING_ENTRY or not node.startswith("model."):
            continue
        found.add(node)
        todo += children.get(node, [])
    return sorted(manifest["nodes"][n]["name"] for n in found)


def _holds_state_of(settings: Settings, cycle: dt.date) -> bool:
    """True when the intermediate tables hold ``cycle``'s state: it is the latest built cycle
    and the latest close run (from the CLI, the UI or the schedule) built it successfully."""
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    from recon_pipeline.definitions import CLOSE_JOB
    from recon_pipeline.pipeline import built_cycles, prepare_instance

    if max(built_cycles(settings)) != cycle:
        return False
    prepare_instance(settings)
    runs = DagsterInstance.get().get_runs(filters=RunsFilter(job_name=CLOSE_JOB), limit=1)
    return bool(runs) and runs[0].status == DagsterRunStatus.SUCCESS \
        and runs[0].tags.get("dagster/partition") == cycle.isoformat()


def _rebuild_exception_slice(settings: Settings, cycle: str, echo: Callable[[str], None],
                             tags: dict[str, str] | None = None) -> bool:
    from dagster import DagsterInvalidSubsetError

    from recon_pipeline.dbt_setup import build_models, recon_dbt_project
    from recon_pipeline.definitions import CLOSE_JOB
    from recon_pipeline.pipeline import (QUIET_RUN_CONFIG, CycleResult, _load_definitions, cycle_summary,
                                         format_cycle_line)
    from recon_pipeline.warehouse.cycle_builds import cycle_fingerprint, record_build

    defs, instance = _load_definitions(settings, echo)
    names = sorted(slice_models(json.loads(recon_dbt_project.manifest_path.read_text(encoding="utf-8"))))
    fingerprint = cycle_fingerprint(settings, cycle)
    ok, _last_line = build_models(settings, cycle, names)
    if not ok:
        return False  # the caller falls back to a full rebuild of the cycle
    # The pack (and what reads it) through the close job, so the run shows in the UI with its tags.
    keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys()
            if k.path[-1] in ("close_pack", "portal_snapshot")]
    sink = io.StringIO() if os.environ.get("RECON_LOG_LEVEL", "CRITICAL") != "DEBUG" else None
    try:
        with contextlib.redirect_stdout(sink) if sink is not None else contextlib.nullcontext():
            outcome = defs.resolve_job_def(CLOSE_JOB).execute_in_process(
                instance=instance, partition_key=cycle, asset_selection=keys, raise_on_error=False,
                run_config=QUIET_RUN_CONFIG, tags=tags or trigger_tags("rebuild"))
    except DagsterInvalidSubsetError:
        return False  # the pack can't be selected on its own here: the caller rebuilds the whole cycle
    if not outcome.success:
        return False  # the caller falls back to a full rebuild of the cycle
    record_build(settings, cycle, fingerprint, run_id=outcome.run_id, how="exceptions slice")
    result = CycleResult(cycle, True, settings.close_pack_path(cycle), cycle_summary(settings, cycle))
    echo(format_cycle_line(result) + f" (exceptions slice: {len(names)} model(s) and the close pack)")
    return True
