"""Where one pay cycle's seconds go: Dagster steps, dbt's own phases and each model.

Why: speed work must start from a measurement, not a guess. This runs ``recon run`` on a
generated scenario in a fresh RECON_HOME and then reads what the run already recorded —
Dagster's step events (start/success timestamps) and dbt's ``run_results.json`` of each
cycle's build — so the profile costs no extra instrumentation in the pipeline itself.

    python bench/profile_cycle.py --days 2 --per-day 30          # demo volume
    python bench/profile_cycle.py --days 1 --per-day 20000       # first cycle at 20k/day
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def step_durations(instance, run_id: str) -> dict[str, float]:
    """Seconds per Dagster step of one run, from its STEP_START/STEP_SUCCESS/STEP_FAILURE events."""
    from dagster import DagsterEventType

    starts: dict[str, float] = {}
    spent: dict[str, float] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = record.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            spent[event.step_key] = record.timestamp - starts.get(event.step_key, record.timestamp)
    return spent


def dbt_results(since: float) -> list[dict]:
    """run_results.json files dbt wrote after ``since`` (one per cycle build), oldest first."""
    target = ROOT / "dbt_project" / "target"
    found = [p for p in target.rglob("run_results.json") if p.stat().st_mtime >= since]
    return [json.loads(p.read_text()) for p in sorted(found, key=lambda p: p.stat().st_mtime)]


def summarise_dbt(results: dict, top: int) -> dict:
    nodes = sorted(results["results"], key=lambda r: -r["execution_time"])
    models = sum(r["execution_time"] for r in nodes if r["unique_id"].startswith("model."))
    tests = sum(r["execution_time"] for r in nodes if r["unique_id"].startswith("test."))
    seeds = sum(r["execution_time"] for r in nodes if r["unique_id"].startswith("seed."))
    return {
        "dbt_elapsed_s": round(results.get("elapsed_time", 0.0), 2),
        "models_s": round(models, 2), "tests_s": round(tests, 2), "seeds_s": round(seeds, 2),
        "slowest": [(r["unique_id"].split(".")[-1], round(r["execution_time"], 2), r["status"])
                    for r in nodes[:top]],
    }


def main() -> int:
    import warnings

    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--per-day", type=int, default=30)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    from recon_pipeline.scenario.generator import generate_scenario

    work = Path(tempfile.mkdtemp(prefix="recon-profile-"))
    os.environ["RECON_HOME"] = str(work / "home")
    os.environ["RECON_LOG_LEVEL"] = "ERROR"
    start = dt.date(2026, 10, 1)
    generate_scenario(work / "scenario", start=start, days=args.days, payments_per_day=args.per_day, seed=1)
    for sub in ("statements", "events"):
        shutil.copytree(work / "scenario" / sub, work / "home" / "inbox" / sub, dirs_exist_ok=True)

    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    from orchestration.runner import run_pipeline
    from recon_pipeline.settings import load_settings

    settings = load_settings()
    began = time.time()
    t0 = time.perf_counter()
    run_pipeline(settings, start + dt.timedelta(days=args.days - 1), echo=lambda _m: None)
    total = time.perf_counter() - t0

    instance = DagsterInstance.get()
    runs = sorted(instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE])),
                  key=lambda r: instance.get_run_stats(r.run_id).start_time or 0)
    profile = {"days": args.days, "per_day": args.per_day, "recon_run_s": round(total, 1), "runs": []}
    dbt_runs = iter(dbt_results(began))
    for run in runs:
        stats = instance.get_run_stats(run.run_id)
        entry = {"job": run.job_name, "partition": run.tags.get("dagster/partition"),
                 "run_wall_s": round((stats.end_time or 0) - (stats.start_time or 0), 2),
                 "steps_s": {k: round(v, 2) for k, v in step_durations(instance, run.run_id).items()}}
        if run.job_name != "ingest_job":
            results = next(dbt_runs, None)
            if results is not None:
                entry["dbt"] = summarise_dbt(results, args.top)
        profile["runs"].append(entry)
    print(json.dumps(profile, indent=1))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
