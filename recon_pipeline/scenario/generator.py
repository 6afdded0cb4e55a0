"""Scenario generator: a week of payment events and bank statements, and the answer key.

Demo data, tests and benchmarks all need inputs whose correct reconciliation is known in
advance. This module fabricates them from a seed - same arguments, byte-identical files - and
writes ``truth.json``: what a perfect reconciler must conclude as of the last pay cycle.

Every difficulty the reconciler must handle is one *scenario kind*, a trap planted by one
module of ``scenario/traps/`` (``exact``, ``late_settlement``, ``fee``, ... ``tie``). A kind
adds payments with their event lifecycle, the bank lines the bank books for them, and the
expected verdicts. This module is the public entry that composes the parts:

* ``config``      the settings the truth reports (settlement window, fee tolerance, currency)
* ``accounts``    our accounts and the counterparties, with valid IBANs
* ``model``       payments, events, bank lines and match groups being built
* ``builder``     the vocabulary traps are written in, the pay-cycle clock, ``open_verdict``
* ``traps/``      one module per trap and the ordered registry of kinds
* ``plan``        the day loop: which kinds go on which day
* ``statements``  camt.053 (account A) and MT940 (account B) files, via ``writers/``
* ``snapshots``   the events as JSON Lines snapshots (bare, ``kcat -J``, gzipped, redelivered)
* ``truth``       ``truth.json`` and its semantics
* ``participants`` our other services' reports (``participants=True``)

Usage::

    python -m recon_pipeline.scenario.generator OUT_DIR --start 2026-11-09 --days 7 \\
        --per-day 20 --seed 42 [--poison] [--timezone Europe/Amsterdam --cutoff 17:00] \\
        [--kind tie=2 --kind cutoff_edge=3]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from recon_pipeline.scenario.accounts import (
    ACCOUNT_A,
    ACCOUNT_B,
    ACCOUNTS,
    COUNTERPARTIES,
    STRANGERS,
    iban_is_valid,
    make_iban,
)
from recon_pipeline.scenario.builder import Builder, amount_scale
from recon_pipeline.scenario.config import CURRENCY, FEE_TOLERANCE, SETTLEMENT_WINDOW_DAYS
from recon_pipeline.scenario.participants import add_participants
from recon_pipeline.scenario.plan import check_weights, plan
from recon_pipeline.scenario.snapshots import write_events
from recon_pipeline.scenario.statements import assign_bank_references, write_statements
from recon_pipeline.scenario.traps import DEFAULT_KIND_WEIGHTS, KINDS, OPT_IN_KINDS, KindSpec
from recon_pipeline.scenario.traps.poison import write_broken_statement
from recon_pipeline.scenario.traps.returns import KNOWN_RETURN_REASONS, UNKNOWN_RETURN_REASONS
from recon_pipeline.scenario.truth import build_truth

# Names tests, the CLI and bench/ import from here.
__all__ = [
    "ACCOUNTS", "ACCOUNT_A", "ACCOUNT_B", "COUNTERPARTIES", "CURRENCY", "DEFAULT_KIND_WEIGHTS",
    "FEE_TOLERANCE", "KINDS", "KNOWN_RETURN_REASONS", "OPT_IN_KINDS", "SETTLEMENT_WINDOW_DAYS",
    "STRANGERS", "UNKNOWN_RETURN_REASONS", "KindSpec", "Scenario", "generate_scenario",
    "iban_is_valid", "main", "make_iban",
]


@dataclass(frozen=True)
class Scenario:
    """Where a generated scenario lives and what it must reconcile to."""

    out_dir: Path
    statements_dir: Path
    events_dir: Path
    truth_path: Path
    cycles: list[dt.date]
    truth: dict[str, Any]
    # Participant services' snapshot folders (``participants=True``), one per service.
    service_events_dirs: tuple[Path, ...] = ()

    @property
    def last_cycle(self) -> dt.date:
        return self.cycles[-1]


def generate_scenario(out_dir: Path, start: dt.date, days: int = 7, payments_per_day: int = 20,
                      seed: int = 42, kinds: Mapping[str, float] | None = None,
                      poison: bool = False, timezone: str = "UTC",
                      cutoff: dt.time = dt.time(0, 0), participants: bool = False) -> Scenario:
    """Write statements, event snapshots and ``truth.json`` under ``out_dir``.

    Deterministic: the same arguments give byte-identical files (no wall clock, no hash
    ordering). ``kinds`` maps kind name to weight (default: every kind, ``exact`` most
    often); each kind with a positive weight appears at least once if the period is long
    enough for it. ``payments_per_day`` is approximate (a batch adds several at once).
    ``timezone`` and ``cutoff`` are the pay-cycle settings the scenario is to be run with
    (``pay_cycle: {timezone, cutoff}`` in recon.yaml); events are timed in those cycles.
    ``participants`` adds our other services' reports and their breaks (CONTRACT §6, see
    ``scenario/participants.py``) without changing the bank side.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if payments_per_day < 0:
        raise ValueError("payments_per_day must not be negative")
    weights = check_weights(kinds)
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    cycles = [start + dt.timedelta(days=i) for i in range(days)]
    ZoneInfo(timezone)                      # an unknown zone fails here, before any file is written
    b = Builder(rng, cycles, timezone, cutoff, amount_scale(payments_per_day * days))
    plan(b, weights, payments_per_day)

    statements_dir = out_dir / "statements"
    events_dir = out_dir / "events"
    statements_dir.mkdir(parents=True, exist_ok=True)
    events_dir.mkdir(parents=True, exist_ok=True)

    assign_bank_references(b)
    internal = add_participants(b, seed, out_dir) if participants else None
    accounts, statement_files, first_camt = write_statements(b, statements_dir)
    event_counts = write_events(b, events_dir, poison)
    poison_files = 0
    if poison:
        poison_files = write_broken_statement(statements_dir, start, first_camt)

    truth = build_truth(b, seed, accounts, statement_files, event_counts, poison_files)
    if internal is not None:
        truth["internal_consistency"] = internal
    truth_path = out_dir / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    service_dirs = tuple(Path(d) for d in internal["event_dirs"]) if internal else ()
    return Scenario(out_dir, statements_dir, events_dir, truth_path, cycles, truth, service_dirs)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m recon_pipeline.scenario.generator``: the same scenarios for people and scripts."""
    parser = argparse.ArgumentParser(
        prog="python -m recon_pipeline.scenario.generator",
        description="Generate a deterministic reconciliation scenario (statements, events, truth.json).")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 11, 9),
                        help="first pay cycle, YYYY-MM-DD (default 2026-11-09)")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--per-day", type=int, default=20, dest="per_day")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--poison", action="store_true",
                        help="also write malformed events and a truncated statement file")
    parser.add_argument("--timezone", default="UTC", help="pay-cycle time zone (default UTC)")
    parser.add_argument("--cutoff", type=dt.time.fromisoformat, default=dt.time(0, 0),
                        help="pay-cycle cut-off HH:MM (default 00:00)")
    parser.add_argument("--kind", action="append", default=[], metavar="NAME=WEIGHT",
                        help=f"add a kind to the default mix (opt-in kinds: {', '.join(OPT_IN_KINDS)})")
    args = parser.parse_args(argv)
    try:
        kinds = None
        if args.kind:
            kinds = dict(DEFAULT_KIND_WEIGHTS)
            for item in args.kind:
                name, _, weight = item.partition("=")
                kinds[name] = float(weight or 1)
        scenario = generate_scenario(args.out_dir, args.start, days=args.days,
                                     payments_per_day=args.per_day, seed=args.seed,
                                     poison=args.poison, kinds=kinds, timezone=args.timezone,
                                     cutoff=args.cutoff)
    except (ValueError, OSError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts = scenario.truth["counts"]
    print(f"scenario {scenario.cycles[0]}..{scenario.last_cycle} seed {args.seed}: "
          f"{counts['payments']} payments, {counts['events']} events, "
          f"{counts['bank_lines']} bank lines in {counts['statement_files']} statement files")
    print(f"statements: {scenario.statements_dir}")
    print(f"events:     {scenario.events_dir}")
    print(f"truth:      {scenario.truth_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
