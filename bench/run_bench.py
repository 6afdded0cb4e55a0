"""make bench: throughput and memory of recon on generated data, on this machine.

Three measurements, each in a fresh RECON_HOME:
  parse    — statement files and event snapshots → raw tables (the loaders alone)
  cycles   — `recon run` over N generated days (pick-up, ingest, one dbt build per cycle, packs)
  rebuild  — rebuilding the last cycle alone (the steady-state daily cost)
Peak memory is the maximum resident set of this process and its children (dbt runs as one).
Targets (checked here, never in a unit test): a 2,000-payment day builds in under 60 s,
and peak memory stays under 2 GiB.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS_PER_CYCLE = 60.0
TARGET_PEAK_MIB = 2048.0


def peak_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def main() -> int:
    import warnings

    warnings.simplefilter("ignore")  # library beta notices would drown the figures
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--per-day", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the bench RECON_HOME")
    args = parser.parse_args()

    from recon_pipeline.scenario.generator import generate_scenario

    work = Path(tempfile.mkdtemp(prefix="recon-bench-"))
    os.environ["RECON_HOME"] = str(work / "home")
    for key in [k for k in os.environ if k.startswith("RECON_") and k != "RECON_HOME"]:
        del os.environ[key]
    start = dt.date(2026, 10, 1)
    t0 = time.perf_counter()
    scenario = generate_scenario(work / "scenario", start=start, days=args.days,
                                 payments_per_day=args.per_day, seed=1)
    generate_s = time.perf_counter() - t0
    home = work / "home"
    for sub in ("statements", "events"):
        shutil.copytree(work / "scenario" / sub, home / "inbox" / sub, dirs_exist_ok=True)
    payments = len(scenario.truth["payments"])
    lines = len(scenario.truth["bank_lines"])

    from recon_pipeline.landing import LandingZone
    from recon_pipeline.settings import load_settings
    from recon_pipeline.sources.local_inbox import scan_inbox
    from recon_pipeline.warehouse.connection import open_warehouse
    from recon_pipeline.warehouse.load_events import load_event_files
    from recon_pipeline.warehouse.load_statements import load_statement_files

    settings = load_settings()
    settings.ensure_dirs()
    landing = LandingZone(settings.landing_dir)
    t0 = time.perf_counter()
    scan_inbox(settings.statements_dir, landing, "statements")
    scan_inbox(settings.events_dir, landing, "events")
    with open_warehouse(settings) as wh:
        st = load_statement_files(wh, landing)
        ev = load_event_files(wh, landing)
    parse_s = time.perf_counter() - t0

    from recon_pipeline.pipeline import rebuild_cycles, run_pipeline

    os.environ["RECON_LOG_LEVEL"] = "ERROR"
    last = start + dt.timedelta(days=args.days - 1)
    t0 = time.perf_counter()
    results = run_pipeline(settings, last, echo=lambda _m: None)
    cycles_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rebuild_cycles(settings, [last.isoformat()], echo=lambda _m: None)
    rebuild_s = time.perf_counter() - t0

    from recon_pipeline.scenario.evaluate import evaluate

    with open_warehouse(settings, read_only=True) as wh:
        quality = evaluate(wh, scenario.truth)
    report = {
        "machine": f"{os.cpu_count()} cores",
        "days": args.days, "payments_per_day": args.per_day, "payments": payments, "bank_lines": lines,
        "events_loaded": ev.events_loaded, "statement_lines_loaded": st.lines_loaded,
        "generate_seconds": round(generate_s, 1),
        "parse_and_load_seconds": round(parse_s, 1),
        "parse_lines_per_second": round((st.lines_loaded + ev.events_loaded) / parse_s) if parse_s else None,
        "pipeline_seconds": round(cycles_s, 1), "cycles": len(results),
        "seconds_per_cycle": round(cycles_s / max(1, len(results)), 1),
        "rebuild_last_cycle_seconds": round(rebuild_s, 1),
        "peak_rss_mib": round(peak_mib()),
        "link_precision": quality.precision, "link_recall": quality.recall,
        "status_mismatches": len(quality.status_mismatches),
    }
    report["meets_targets"] = (report["rebuild_last_cycle_seconds"] <= TARGET_SECONDS_PER_CYCLE
                               and report["peak_rss_mib"] <= TARGET_PEAK_MIB)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if report["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
