"""make bench: portal search over millions of lines, on this machine.

A warehouse with N payments and M bank lines (default 5 million each) is generated with SQL in
DuckDB, straight into the mart tables (running the pipeline for that would take hours and
measure something else). The portal snapshot is then published from it exactly as the close
job does (``publish_snapshot``), and every kind of search the portal offers is timed through
the portal's own reader and ``search`` (read-only connection to the published snapshot):
payment id, end-to-end id, bank reference, amount, counterparty name, a miss.

Target (checked here, never in a unit test): every search answers in under 1 s.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 1.0
REPEATS = 5
NEXT_CYCLE = "2027-01-01"  # after every generated cycle
def main() -> int:
    import warnings

    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=5_000_000)
    parser.add_argument("--bank-lines", type=int, default=5_000_000)
    parser.add_argument("--cycle-payments", type=int, default=20_000,
                        help="payments and bank lines of the next cycle closed after the first publish")
    parser.add_argument("--keep", action="store_true", help="keep the bench RECON_HOME")
    args = parser.parse_args()

    from recon_pipeline.portal.reader import PortalReader
    from recon_pipeline.portal.search import search
    from recon_pipeline.portal.snapshot import current_snapshot, publish_snapshot
    from recon_pipeline.scenario.synthetic_marts import NAMES, add_synthetic_cycle, create_synthetic_marts
    from recon_pipeline.settings import load_settings
    from recon_pipeline.warehouse.connection import open_warehouse

    tmp = Path(tempfile.mkdtemp(prefix="recon_search_bench_"))
    figures: dict[str, object] = {"payments": args.payments, "bank_lines": args.bank_lines}
    try:
        settings = load_settings(environ={"RECON_HOME": str(tmp / "home")})
        t0 = time.perf_counter()
        with open_warehouse(settings) as wh:
            create_synthetic_marts(wh, args.payments, args.bank_lines)
        figures["generate_s"] = round(time.perf_counter() - t0, 1)
        print(f"generated {args.payments:,} payments + {args.bank_lines:,} bank lines in {figures['generate_s']} s",
              flush=True)

        t0 = time.perf_counter()
        with open_warehouse(settings) as wh:
            publish_snapshot(wh, settings)
        figures["publish_snapshot_s"] = round(time.perf_counter() - t0, 1)
        snapshot = current_snapshot(settings)
        figures["snapshot_mib"] = round(snapshot.stat().st_size / 2**20, 1)
        print(f"published the portal snapshot in {figures['publish_snapshot_s']} s ({figures['snapshot_mib']} MiB)",
              flush=True)

        # The next close: one more cycle on top of all that history. Its publish copies the last
        # snapshot and rewrites that cycle only (portal/snapshot_delta.py).
        with open_warehouse(settings) as wh:
            add_synthetic_cycle(wh, NEXT_CYCLE, args.cycle_payments, args.cycle_payments)
            t0 = time.perf_counter()
            published = publish_snapshot(wh, settings)
        figures["next_cycle_payments"] = args.cycle_payments
        figures["publish_next_cycle_s"] = round(time.perf_counter() - t0, 1)
        figures["publish_next_cycle_how"] = published.how
        figures["snapshot_after_next_cycle_mib"] = round(current_snapshot(settings).stat().st_size / 2**20, 1)
        print(f"closed one more cycle of {args.cycle_payments:,} payments and bank lines: published in "
              f"{figures['publish_next_cycle_s']} s ({published.how}; "
              f"{figures['snapshot_after_next_cycle_mib']} MiB)", flush=True)

        probe = args.payments // 2 + 123
        with open_warehouse(settings, read_only=True) as wh:
            e2e, amount = wh.fetchone("select end_to_end_id, amount from marts.fct_payment_reconciliation "
                                      "where payment_id = ?", (f"PAY-{probe:09d}",))
            bank_ref = wh.fetchone("select bank_reference from marts.fct_bank_line_reconciliation "
                                   "order by bank_line_id limit 1 offset ?", (args.bank_lines // 3,))[0]
        queries = {
            "payment id": f"PAY-{probe:09d}",
            "end-to-end id": e2e,
            "bank reference": bank_ref,
            "id prefix": f"PAY-{probe:09d}"[:11],
            "amount": f"{amount:,.2f}",
            "counterparty name": f"counterparty {probe % NAMES} g",
            "no match": "nothing-like-this-anywhere",
            "next cycle's payment id": "NPAY-000000042",
        }
        reader = PortalReader(settings)
        timings: dict[str, dict[str, float]] = {}
        ok = True
        for label, q in queries.items():
            runs, found = [], 0
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                with reader.open() as snap:
                    found = len(search(snap, q))
                runs.append(time.perf_counter() - t0)
            worst = max(runs)
            ok &= worst < TARGET_SECONDS
            if label != "no match" and found == 0:
                print(f"  {label}: {q!r} found nothing: the bench data is wrong", file=sys.stderr)
                ok = False
            timings[label] = {"median_ms": round(statistics.median(runs) * 1000, 1),
                              "max_ms": round(worst * 1000, 1), "results": found}
            print(f"  {label:23s} {q!r:38s} {found:4d} result(s)  median {timings[label]['median_ms']:7.1f} ms"
                  f"  max {timings[label]['max_ms']:7.1f} ms", flush=True)
        figures["searches"] = timings
        figures["target_s"] = TARGET_SECONDS
        figures["ok"] = ok
        out = ROOT / "bench" / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / "search_latest.json").write_text(json.dumps(figures, indent=2, default=str))
        print(("PASS" if ok else "FAIL") + f": every search under {TARGET_SECONDS:.0f} s "
              f"over {args.payments:,} payments + {args.bank_lines:,} bank lines")
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
