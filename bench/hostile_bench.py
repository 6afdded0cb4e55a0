"""make bench (hostile part): what hostile input costs, against a stated memory ceiling.

Each case runs in a fresh process with a fresh RECON_HOME and a real DuckDB warehouse, so its
peak resident memory is its own:
  gzip_bomb      — 1,000,000 lines that are not events, in a ~2 KB .jsonl.gz, through the inbox
                   and the event loader: every line is quarantined (quarantine rows are written
                   in batches, so memory stays flat however many lines there are);
  huge_statement — a 512 MiB camt.053, through the inbox (streamed into the landing zone) and
                   the statement loader: refused unread over the 64 MiB cap, quarantined as a
                   file with its name and a reason (the landing zone keeps every byte);
  at_cap         — optional (--at-cap): a statement just under the cap, parsed and loaded, to
                   show what the biggest accepted file costs.
Ceiling (checked here, never in a unit test): peak RSS < 300 MiB for gzip_bomb and
huge_statement (the 1M-line gzip measures ~255 MiB, of which ~120 MiB is Python, pyarrow and
an open DuckDB warehouse before the first row). Exits non-zero above the ceiling.

  python bench/hostile_bench.py            # full size (1M lines, 512 MiB)
  python bench/hostile_bench.py --quick    # 100k lines, 64 MiB + 1 byte: for development
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CEILING_MIB = 300.0
AIM_MIB = 300.0
IBAN = "DE89370400440532013000"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _home(work: Path):
    os.environ["RECON_HOME"] = str(work / "home")
    from recon_pipeline.settings import load_settings

    settings = load_settings()
    settings.ensure_dirs()
    return settings


def case_gzip_bomb(work: Path, lines: int) -> dict:
    from recon_pipeline.landing import LandingZone
    from recon_pipeline.sources.local_inbox import scan_inbox
    from recon_pipeline.warehouse.connection import open_warehouse
    from recon_pipeline.warehouse.load_events import load_event_files

    settings = _home(work)
    path = settings.events_dir / "bomb.jsonl.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb", compresslevel=9) as out:
        chunk = b"x\n" * 100_000
        for _ in range(lines // 100_000):
            out.write(chunk)
        out.write(b"x\n" * (lines % 100_000))
    size = path.stat().st_size
    t0 = time.perf_counter()
    landing = LandingZone(settings.landing_dir)
    scan_inbox(settings.events_dir, landing, "events")
    with open_warehouse(settings) as wh:
        result = load_event_files(wh, landing)
        with wh.memory_capped("64MB"):  # the check below must not be what fills the memory
            stored = wh.fetchone("select count(*) from raw.quarantine_events")[0]
    seconds = time.perf_counter() - t0
    assert result.messages_quarantined == lines == stored, (result.messages_quarantined, stored)
    return {"case": "gzip_bomb", "lines": lines, "gzip_bytes": size, "quarantined_rows": stored,
            "seconds": round(seconds, 1), "peak_mib": round(_peak_mib(), 1)}


def case_huge_statement(work: Path, size_bytes: int) -> dict:
    from recon_pipeline.landing import LandingZone
    from recon_pipeline.sources.local_inbox import scan_inbox
    from recon_pipeline.warehouse.connection import open_warehouse
    from recon_pipeline.warehouse.load_statements import load_statement_files

    settings = _home(work)
    path = settings.statements_dir / "huge_camt053.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = (b'<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
             b'<BookgDt><Dt>2026-11-10</Dt></BookgDt></Ntry>\n')
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
            f'camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>HUGE</MsgId></GrpHdr><Stmt><Id>HUGE</Id>'
            f'<Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>\n').encode()
    tail = b"</Stmt></BkToCstmrStmt></Document>\n"
    with open(path, "wb") as out:
        out.write(head)
        written = len(head) + len(tail)
        block = entry * 8192
        while written + len(block) <= size_bytes:
            out.write(block)
            written += len(block)
        out.write(b" " * (size_bytes - written))
        out.write(tail)
    t0 = time.perf_counter()
    landing = LandingZone(settings.landing_dir)
    scan_inbox(settings.statements_dir, landing, "statements")
    with open_warehouse(settings) as wh:
        result = load_statement_files(wh, landing)
        row = wh.fetchone("select reason from raw.quarantine_statement_files")
    seconds = time.perf_counter() - t0
    return {"case": "huge_statement", "bytes": path.stat().st_size, "quarantine_reason": row[0] if row else None,
            "lines_loaded": result.lines_loaded, "seconds": round(seconds, 1), "peak_mib": round(_peak_mib(), 1)}


def case_at_cap(work: Path, size_bytes: int) -> dict:
    result = case_huge_statement(work, size_bytes)
    result["case"] = "at_cap"
    return result


def _run_case(name: str, arg: int) -> dict:
    """Run one case in a fresh interpreter so its peak memory is its own."""
    with tempfile.TemporaryDirectory(prefix=f"recon-hostile-{name}-") as tmp:
        proc = subprocess.run([sys.executable, __file__, "--case", name, "--arg", str(arg), "--work", tmp],
                              capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="development size: 100k lines, 64 MiB + 1")
    parser.add_argument("--at-cap", action="store_true", help="also parse a statement just under the cap")
    parser.add_argument("--case")
    parser.add_argument("--arg", type=int)
    parser.add_argument("--work")
    args = parser.parse_args()
    if args.case:
        import warnings

        warnings.simplefilter("ignore")
        fn = {"gzip_bomb": case_gzip_bomb, "huge_statement": case_huge_statement, "at_cap": case_at_cap}[args.case]
        print(json.dumps(fn(Path(args.work), args.arg)))
        return 0

    from recon_pipeline.statements.model import MAX_STATEMENT_BYTES

    lines = 100_000 if args.quick else 1_000_000
    size = MAX_STATEMENT_BYTES + 1 if args.quick else 512 * 1024 * 1024
    results = [_run_case("gzip_bomb", lines), _run_case("huge_statement", size)]
    assert results[1]["quarantine_reason"], "the over-size statement was not quarantined"
    missed = [r["case"] for r in results if r["peak_mib"] >= CEILING_MIB]
    if args.at_cap:
        results.append(_run_case("at_cap", MAX_STATEMENT_BYTES - 1024))
    print(f"hostile input (ceiling {CEILING_MIB:.0f} MiB, aim {AIM_MIB:.0f} MiB peak RSS per case):")
    for r in results:
        what = (f"{r['lines']:,} bad lines in a {r['gzip_bytes']:,}-byte gzip → {r['quarantined_rows']:,} quarantine rows"
                if r["case"] == "gzip_bomb" else f"{r['bytes'] / 2**20:,.0f} MiB statement → {r['quarantine_reason'][:60]}…"
                if r["case"] == "huge_statement"
                else f"{r['bytes'] / 2**20:,.1f} MiB statement, {r['lines_loaded']:,} lines parsed and loaded")
        print(f"  {r['case']:<15} {what}: {r['seconds']} s, peak {r['peak_mib']} MiB")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "hostile_latest.json").write_text(json.dumps(results, indent=2))
    if missed:
        print(f"MISSED the memory ceiling: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
