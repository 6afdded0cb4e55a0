"""Peak memory of writing the close pack of a 200,000-line pay cycle.

The pack is written in openpyxl's write-only mode from queries streamed in batches, so its
memory must not grow with the cycle. To measure that without running 200,000 payments through
the whole pipeline, a small generated day is built by the real `recon run` (real schema, real
rows), then that cycle's mart rows are replicated with new ids inside DuckDB until the cycle
holds ``--lines`` bank lines (and as many payments, links, exceptions and open items in
proportion). The pack is then written in a fresh process that reports its peak resident set
and its peak Python heap (tracemalloc), against the same process's footprint before writing.

    python bench/close_pack_bench.py [--lines 200000] [--keep] [--from-home RECON_HOME]

``--from-home`` starts from a copy of an already built warehouse (its last cycle) instead of
building the small week first.

Target (checked here, never in a unit test): the pack's writing adds less than 300 MiB of
Python heap whatever the size, i.e. rows are streamed, not held.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_HEAP_MIB = 300.0
DAY = dt.date(2026, 10, 1)
MARTS = {  # table -> id columns made unique per copy
    "fct_bank_line_reconciliation": ["bank_line_id", "match_id"],
    "fct_payment_reconciliation": ["payment_id", "match_id"],
    "fct_reconciliation_links": ["match_id", "payment_id", "bank_line_id"],
    "fct_exceptions": ["exception_id", "payment_id", "bank_line_id"],
    "rpt_exceptions": ["exception_id", "payment_id", "bank_line_id"],
}

WRITER = """
import json, resource, sys, time, tracemalloc
from pathlib import Path
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import open_warehouse
from recon_pipeline.reports.close_pack import write_close_pack
settings = load_settings()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
tracemalloc.start()
t0 = time.perf_counter()
with open_warehouse(settings, read_only=True) as wh:
    result = write_close_pack(wh, sys.argv[1], Path(sys.argv[2]))
seconds = time.perf_counter() - t0
_, heap = tracemalloc.get_traced_memory()
print(json.dumps({"seconds": round(seconds, 1), "rss_before_mib": round(before, 1),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "peak_python_heap_mib": round(heap / 2**20, 1),
                  "rows": {k: v.get("rows", v.get("exceptions")) for k, v in result.row_counts.items()
                           if isinstance(v, dict)},
                  "parquet_files": [Path(p).name for p in result.parquet_files],
                  "pack_mib": round(Path(sys.argv[2]).stat().st_size / 2**20, 1)}))
"""


def build_small_cycle(work: Path, env: dict) -> None:
    from recon_pipeline.scenario.generator import generate_scenario

    generate_scenario(work / "scenario", start=DAY - dt.timedelta(days=4), days=5, payments_per_day=60, seed=3)
    home = Path(env["RECON_HOME"])
    for sub in ("statements", "events"):
        shutil.copytree(work / "scenario" / sub, home / "inbox" / sub, dirs_exist_ok=True)
    recon = str(Path(sys.executable).with_name("recon"))
    subprocess.run([recon, "run", "--through", DAY.isoformat()], env=env, check=True, capture_output=True)


def last_cycle(env: dict) -> dt.date:
    import duckdb

    con = duckdb.connect(str(Path(env["RECON_HOME"]) / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("select max(pay_cycle) from marts.rpt_close_summary").fetchone()[0]
    finally:
        con.close()


def amplify(env: dict, lines: int, day: dt.date) -> dict:
    """Replicate the cycle's mart rows with new ids until it holds about ``lines`` bank lines."""
    import duckdb

    con = duckdb.connect(str(Path(env["RECON_HOME"]) / "warehouse.duckdb"))
    have = con.execute("select count(*) from marts.fct_bank_line_reconciliation where pay_cycle = ?", [day]).fetchone()[0]
    copies = max(1, -(-lines // max(have, 1)))
    for table, ids in MARTS.items():
        replace = ", ".join(f"case when {c} is null then null else {c} || '~' || k end as {c}" for c in ids)
        con.execute(f"create or replace temp table seed_rows as select * from marts.{table} where pay_cycle = ?", [day])
        con.execute(f"insert into marts.{table} select * exclude (k) replace ({replace}) "
                    f"from seed_rows, range(1, {copies}) as t(k)")
    counts = {t: con.execute(f"select count(*) from marts.{t} where pay_cycle = ?", [day]).fetchone()[0] for t in MARTS}
    con.close()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--from-home", type=Path, help="copy this RECON_HOME's warehouse instead of building one")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="recon-pack-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "DAGSTER_"))}
    env["RECON_HOME"] = str(work / "home")
    t0 = time.perf_counter()
    if args.from_home:
        (work / "home").mkdir(parents=True)
        shutil.copy2(args.from_home / "warehouse.duckdb", work / "home" / "warehouse.duckdb")
    else:
        build_small_cycle(work, env)
    built_s = time.perf_counter() - t0
    day = last_cycle(env)
    counts = amplify(env, args.lines, day)
    proc = subprocess.run([sys.executable, "-c", WRITER, day.isoformat(), str(work / "close_pack.xlsx")],
                          env=env, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return 1
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    figures.update({"cycle_rows": counts, "small_build_s": round(built_s, 1),
                    "target_heap_mib": TARGET_HEAP_MIB})
    print(json.dumps(figures, indent=1))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "close_pack_latest.json").write_text(json.dumps(figures, indent=1))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if figures["peak_python_heap_mib"] > TARGET_HEAP_MIB:
        print(f"MISSED: the pack's Python heap peaked at {figures['peak_python_heap_mib']} MiB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
