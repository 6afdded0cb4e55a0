"""make bench: recon end to end next to the naive pandas script, on the same generated files.

Why side by side: a figure alone says little; next to the script people write first
(bench/naive_recon.py: join on reference, no amount check) it says what recon's checks cost.
Every measured program runs as its own process and its peak memory is that process tree's
(os.wait4), so recon's figure includes dbt's subprocess. Four scenarios (issue #10):

  five_cycles  N payments and as many bank lines over five cycles through `recon run`
               (target: no slower than naive, peak < 2 GiB)
  month        30 days x 30 payments; each cycle vs the naive script over the whole month
  history      cycle `--history-days` vs cycle 2 at the same daily volume (cost must not grow)
  big          one cycle of N payments (target: < 10 min, < 4 GiB)
  services     five cycles with our other services reporting every payment too (CONTRACT
               §6: ledger, gateway; one of each internal break): what internal consistency
               costs next to `five_cycles`, and every break found in its cycle

Sizes: RECON_BENCH_SIZE=quick (default, minutes on an idle 2-core machine) or full (the
issue's sizes: 200k/5 cycles, 30x30, cycle 60, 1,000,000 payments). `--only` picks scenarios.
Results go to bench/results/latest.json; the exit code is non-zero when a target is missed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

START = dt.date(2026, 10, 1)
GIB = 1024.0

# (payments per day, days) per scenario; `big` is one day.
SIZES = {
    "quick": {"five_cycles": (2000, 5), "month": (30, 5), "history": (30, 8), "big": (20000, 1), "services": (2000, 5)},
    "full": {"five_cycles": (41000, 5), "month": (30, 30), "history": (30, 60), "big": (1_000_000, 1),
             "services": (41000, 5)},
}


def run_measured(cmd: list[str], env: dict[str, str]) -> dict:
    """Wall seconds and peak resident MiB of one program and its children, through a tiny
    wrapper process, so each program's peak is its own (a process's RUSAGE_CHILDREN only
    ever grows, so measuring several programs from this process would mix them)."""
    wrapper = ("import resource,subprocess,sys,time,json;t=time.perf_counter();"
               "r=subprocess.run(sys.argv[1:]);"
               "print(json.dumps({'rc':r.returncode,'s':time.perf_counter()-t,"
               "'kib':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}),file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], env=env, capture_output=True, text=True)
    stats = json.loads(proc.stderr.strip().splitlines()[-1])
    return {"seconds": round(stats["s"], 1), "peak_mib": round(stats["kib"] / 1024.0),
            "returncode": stats["rc"], "stdout": proc.stdout, "stderr": proc.stderr[-2000:]}


def generate(folder: Path, per_day: int, days: int, participants: bool = False):
    from recon_pipeline.scenario.generator import generate_scenario

    return generate_scenario(folder, start=START, days=days, payments_per_day=per_day, seed=1,
                             participants=participants)


def fresh_home(work: Path, generated) -> tuple[Path, dict[str, str]]:
    """A new RECON_HOME with the scenario in its inbox; participant services' events in a
    folder each, tracked by the generator's internal_consistency section."""
    from recon_pipeline.scenario.participants import config_yaml

    home = work / "home"
    for sub in ("statements", "events"):
        shutil.copytree(generated.out_dir / sub, home / "inbox" / sub, dirs_exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECON_")}
    env.update(RECON_HOME=str(home), RECON_LOG_LEVEL="ERROR", PYTHONWARNINGS="ignore")
    if generated.service_events_dirs:
        folders = [home / "inbox" / "events"]
        for folder in generated.service_events_dirs:
            folders.append(home / "inbox" / f"events_{folder.name}")
            shutil.copytree(folder, folders[-1])
        (home / "recon.yaml").write_text(config_yaml(), encoding="utf-8")
        env.update(RECON_CONFIG=str(home / "recon.yaml"), RECON_EVENTS_DIR=os.pathsep.join(map(str, folders)))
    return home, env


def naive(scenario_dir: Path) -> dict:
    result = run_measured([sys.executable, str(ROOT / "bench" / "naive_recon.py"), str(scenario_dir)], dict(os.environ))
    if result["returncode"] != 0:
        return {"seconds": result["seconds"], "peak_mib": result["peak_mib"], "failed": result["stderr"][-500:]}
    figures = json.loads(result["stdout"].strip().splitlines()[-1])
    return {"seconds": result["seconds"], "peak_mib": result["peak_mib"], **{k: v for k, v in figures.items() if k != "seconds"}}


def recon_run(home: Path, env: dict[str, str], days: int) -> dict:
    recon = str(Path(sys.executable).with_name("recon"))
    through = (START + dt.timedelta(days=days - 1)).isoformat()
    result = run_measured([recon, "run", "--through", through], env)
    if result["returncode"] != 0:
        return {"seconds": result["seconds"], "peak_mib": result["peak_mib"], "failed": result["stderr"][-500:]}
    return {"seconds": result["seconds"], "peak_mib": result["peak_mib"], "cycles": per_cycle_seconds(home)}


def per_cycle_seconds(home: Path) -> dict[str, float]:
    """Wall seconds of each cycle's close job, from the Dagster instance the run wrote."""
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    from dagster import DagsterInstance, RunsFilter

    with DagsterInstance.get() as instance:
        seconds = {}
        for run in instance.get_runs(RunsFilter(job_name="close_cycle_job")):
            stats = instance.get_run_stats(run.run_id)
            if stats.start_time and stats.end_time:
                seconds[run.tags.get("dagster/partition", "?")] = round(stats.end_time - stats.start_time, 1)
    return dict(sorted(seconds.items()))


def quality(home: Path, truth: dict, cycles: list[str]) -> dict:
    os.environ["RECON_HOME"] = str(home)
    from recon_pipeline.scenario.evaluate import evaluate, expected_internal_exceptions, internal_exceptions
    from recon_pipeline.settings import load_settings
    from recon_pipeline.warehouse.connection import open_warehouse

    with open_warehouse(load_settings(), read_only=True) as wh:
        q = evaluate(wh, truth)
        figures = {"link_precision": round(q.precision, 4), "link_recall": round(q.recall, 4),
                   "status_mismatches": len(q.status_mismatches)}
        if truth.get("internal_consistency"):
            expected, found = expected_internal_exceptions(truth, cycles), internal_exceptions(wh)
            figures.update(internal_exception_rows_expected=len(expected),
                           internal_exception_rows_missing=len(expected - found),
                           internal_exception_rows_unexpected=len(found - expected))
    return figures


def scenario(name: str, per_day: int, days: int, work_root: Path) -> dict:
    work = work_root / name
    t0 = time.perf_counter()
    generated = generate(work / "scenario", per_day, days, participants=name == "services")
    report: dict = {"payments_per_day": per_day, "days": days,
                    "payments": len(generated.truth["payments"]), "bank_lines": len(generated.truth["bank_lines"]),
                    "generate_seconds": round(time.perf_counter() - t0, 1)}
    report["naive"] = naive(work / "scenario")
    home, env = fresh_home(work, generated)
    report["recon"] = recon_run(home, env, days)
    if "failed" not in report["recon"]:
        report["recon"].update(quality(home, generated.truth, [c.isoformat() for c in generated.cycles]))
    return report


def history_windows(cycles: list[float], width: int = 10) -> tuple[float | None, float | None]:
    """Median seconds of the earliest and the latest cycles (up to ``width`` each, the first
    cycle left out: it pays dbt's import and parse).

    Why medians of windows and not cycle 2 against the last cycle alone: on this 2-core
    machine one cycle of ~10 s varies by ±1.5 s from run to run (2026-12-01: cycle 60 was 1.29×
    cycle 2 in one full-size run and 1.07× in the next), so a verdict from two single cycles
    flips on noise. Growth with history shows as a later window that costs more. What it
    gives up: the windows compare their middles (cycles ~6 and ~55 of 60), so a cost rising
    steadily by 1.25x from cycle 2 to 60 reads as ~1.21x, and a jump in only the last few
    cycles is outvoted; read the printed cycle 2 and last cycle beside the verdict."""
    steady = cycles[1:]
    if len(steady) < 2:
        return None, None
    size = min(width, len(steady) // 2)
    return statistics.median(steady[:size]), statistics.median(steady[-size:])


def judge(name: str, r: dict) -> dict:
    """Each target's figure next to the naive script's, and whether it was met."""
    rec, nav = r["recon"], r["naive"]
    cycles = list(rec.get("cycles", {}).values())
    if "failed" in rec:
        return {"met": False, "why": "recon run failed"}
    if name == "five_cycles":
        return {"recon_s": rec["seconds"], "naive_s": nav["seconds"], "peak_mib": rec["peak_mib"],
                "met": rec["seconds"] <= nav["seconds"] and rec["peak_mib"] < 2 * GIB}
    if name == "month":
        slowest = max(cycles) if cycles else None
        return {"slowest_cycle_s": slowest, "mean_cycle_s": round(sum(cycles) / len(cycles), 1) if cycles else None,
                "naive_whole_period_s": nav["seconds"],
                "met": slowest is not None and slowest <= nav["seconds"]}
    if name == "history":
        second, last = (cycles[1], cycles[-1]) if len(cycles) >= 2 else (None, None)
        early, late = history_windows(cycles)
        return {"cycle_2_s": second, f"cycle_{len(cycles)}_s": last,
                "early_median_s": early, "late_median_s": late,
                "met": early is not None and late <= 1.25 * early}
    if name == "big":
        return {"recon_s": rec["seconds"], "naive_s": nav["seconds"], "peak_mib": rec["peak_mib"],
                "met": rec["seconds"] < 600 and rec["peak_mib"] < 4 * GIB}
    if name == "services":
        exact = rec.get("internal_exception_rows_missing") == 0 and rec.get("internal_exception_rows_unexpected") == 0
        return {"recon_s": rec["seconds"], "peak_mib": rec["peak_mib"],
                "internal_exception_rows": rec.get("internal_exception_rows_expected"),
                "every_break_in_its_cycle": exact, "met": exact and rec["peak_mib"] < 2 * GIB}
    return {}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=sorted(SIZES), default=os.environ.get("RECON_BENCH_SIZE", "quick"))
    parser.add_argument("--only", nargs="*", choices=list(SIZES["quick"]), help="run only these scenarios")
    parser.add_argument("--per-day", type=int, help="override payments per day (every chosen scenario)")
    parser.add_argument("--days", type=int, help="override days (every chosen scenario but big)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and homes")
    args = parser.parse_args()

    work_root = Path(tempfile.mkdtemp(prefix="recon-bench-"))
    load = os.getloadavg()
    report = {"machine": f"{os.cpu_count()} cores", "load_average_at_start": [round(x, 1) for x in load],
              "size": args.size, "scenarios": {}, "targets": {}}
    for name, (per_day, days) in SIZES[args.size].items():
        if args.only and name not in args.only:
            continue
        per_day = args.per_day or per_day
        days = days if name == "big" else (args.days or days)
        result = scenario(name, per_day, days, work_root)
        report["scenarios"][name] = result
        report["targets"][name] = judge(name, result)
        print(json.dumps({name: report["targets"][name]}), flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    if not args.keep:
        shutil.rmtree(work_root, ignore_errors=True)
    return 0 if all(t.get("met") for t in report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
