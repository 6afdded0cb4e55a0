"""The ``recon`` command line (CONTRACT.md §4).

Exit codes: 0 when the command did its job (whatever exceptions the data holds), 1 with a
one-line reason on stderr when it could not, 2 for a usage error.

It lives with the orchestration because ``run``, ``resolve``, ``match``, ``release`` and ``demo``
drive Dagster (orchestration/runner.py, orchestration/apply.py). Those two modules, the portal
server and the scenario generator are imported inside the commands that use them: loading
Dagster costs seconds, and ``recon inspect`` or ``recon hash-password`` should not pay for it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from orchestration.instance import prepare_instance
from recon_pipeline.audit import verify_chain
from recon_pipeline.audit.log import append_audit, read_audit_log
from recon_pipeline.dbt_setup import ensure_manifest
from recon_pipeline.holds import release_item
from recon_pipeline.one_line import exception_line
from recon_pipeline.operators import manual_match, parse_amount, resolve_exception, resolve_from_xlsx, undo_manual_match
from recon_pipeline.operators.rebuilds import Recorded
from recon_pipeline.pipeline import PipelineError, raise_for_blocked
from recon_pipeline.scenario.participants import config_yaml
from recon_pipeline.settings import ConfigError, Settings, load_settings
from recon_pipeline.statements.inspect import main as inspect_main
from recon_pipeline.warehouse.connection import WarehouseUnavailable, open_warehouse, warehouse_target
from recon_pipeline.warehouse.identity import forget_recorded


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recon",
        description="Payment reconciliation per pay cycle: bank statements against our payment events, "
                    "one close pack (.xlsx) per cycle.",
        epilog="Start with `recon demo` (a generated week, embedded) or `recon run --through YYYY-MM-DD`. "
               "Everything lives in $RECON_HOME (default ./recon_home). `recon COMMAND --help` explains each command.")
    parser.add_argument("--config", metavar="FILE",
                        help="path to recon.yaml (default: $RECON_CONFIG, else ./recon.yaml if present)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=description)

    run = command("run", "pick up new input, build pay cycles in order, write close packs",
                  "Pick up whatever is new at the configured sources (inbox folders, SFTP, Kafka), load it, then "
                  "build every pay cycle with data up to the date, in order, each through the Dagster close job, "
                  "and write its close pack. A cycle whose inputs did not change is not rebuilt. Prints a line per "
                  "step and per cycle; runs show in the Dagster UI ($RECON_HOME/dagster). Exit 0 when the "
                  "pipeline ran, whatever exceptions the data holds; 1 with a one-line reason when it could not, "
                  "or when a cycle was blocked by a data-quality check.")
    when = run.add_mutually_exclusive_group(required=True)
    when.add_argument("--through", type=_date, metavar="YYYY-MM-DD",
                      help="build every pay cycle with data up to this date, and this date's cycle")
    when.add_argument("--cycle", type=_date, metavar="YYYY-MM-DD",
                      help="build this pay cycle again (and earlier cycles with data never built); the date "
                           "must be a pay-cycle partition: from the first cycle to today's open one")
    run.add_argument("--rebuild", action="store_true",
                     help="the warehouse was lost or replaced and that is intended: forget the id this home "
                          "recorded for it and rebuild every cycle from the landing zone (recorded in the "
                          "audit trail; operator decisions come back from their mirror)")

    inspect = command("inspect", "parse one statement file and print its balances",
                      "Parse one bank statement file (camt.053, MT940, BAI2, OFX or a bank CSV) and print, per "
                      "statement, its format, account, currency, opening and closing balance, entries, the sum of "
                      "movements and whether opening + movements = closing. Reads the file only; exit 1 with the "
                      "reason when it cannot be parsed.")
    inspect.add_argument("file", help="the statement file")
    inspect.add_argument("--json", action="store_true",
                         help='machine-readable output: {"format": ..., "statements": [...]}, amounts as strings')
    inspect.add_argument("--csv-profile", dest="csv_profile", metavar="NAME",
                         help="CSV column-mapping profile to read a CSV file with (a built-in one or one under "
                              "csv_profiles: in recon.yaml); default: detected from the header")

    resolve = command("resolve", "resolve an exception with a recorded reason, or every filled-in row of a close "
                                 "pack's exceptions sheet (--from-xlsx)",
                      "Record an operator's decision on an open exception (append-only, audited, effective from "
                      "the latest built cycle it appears in), then rebuild what it changes so the marts and close "
                      "packs show it. Needs a warehouse built by `recon run`.")
    resolve.add_argument("exception_id", nargs="?", help="the exception's id (Exceptions sheet, `Exception id`)")
    resolve.add_argument("--action", choices=["accept", "adjust", "escalate", "timing"],
                         help="accept: close it with the reason; adjust: close it and book an adjustment "
                              "(--amount, --account); escalate: one step along the escalation path; timing: "
                              "resolved while the counterpart may still arrive (open again if it does not)")
    resolve.add_argument("--reason", metavar="TEXT", help="why; kept in the log and the audit trail")
    resolve.add_argument("--amount", help="adjust: signed amount booked (default: the amount at stake)")
    resolve.add_argument("--account", help="adjust: account booked to (default: seeds/adjustment_accounts.csv)")
    resolve.add_argument("--from-xlsx", dest="from_xlsx", metavar="FILE",
                         help="apply the Action and Reason filled in on a close pack's exceptions sheet, all or none")
    resolve.add_argument("--by", required=True, dest="user", metavar="USER", help="who decides (required)")

    match = command("match", "link a payment and a bank line by hand, with a reason "
                             "(or take a manual match back with --undo)",
                    "Link one payment and one bank line that matching left apart (same account, currency and "
                    "direction), or take such a link back. Append-only and audited; the cycles from the match's "
                    "on are rebuilt. Needs a warehouse built by `recon run`.")
    match.add_argument("--payment", metavar="PAYMENT_ID", help="the payment's id")
    match.add_argument("--bank-line", dest="bank_line", metavar="BANK_LINE_ID", help="the bank line's id")
    match.add_argument("--undo", metavar="MANUAL_MATCH_ID", help="take back a manual match (it stays in the log)")
    match.add_argument("--reason", required=True, metavar="TEXT", help="why (required)")
    match.add_argument("--by", required=True, dest="user", metavar="USER", help="who decides (required)")

    release = command("release", "end the hold a blocked pay cycle put on an event or bank line",
                      "A cycle blocked by a data-quality check holds back its failing items from every later "
                      "cycle. Release one: acknowledge (it is right as it is and goes back in) or exclude (it stays "
                      "out for good); the cycles from the one that held it are rebuilt.")
    release.add_argument("item_key", help="the held event_id or bank_line_id (see the held_items_outstanding check)")
    release.add_argument("--action", required=True, choices=["acknowledge", "exclude"],
                         help="acknowledge: take it back in; exclude: keep it out")
    release.add_argument("--reason", required=True, metavar="TEXT", help="why (required)")
    release.add_argument("--by", required=True, dest="user", metavar="USER", help="who decides (required)")

    audit = command("audit", "the hash-chained audit trail (ops.audit_log)",
                    "The audit trail: every pipeline and human action, each record chained to the one before.")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="SUBCOMMAND")
    audit_sub.add_parser("verify", help="walk the chain; exit non-zero naming the first broken record",
                         description="Walk the audit chain: print the number of records when it is intact, exit 1 "
                                     "naming the first record that was edited, removed or reordered. Reads only.")

    serve = command("serve", "the finance portal (read-only, behind a password)",
                    "The finance portal: pay cycles and their summaries, close pack downloads, exceptions and "
                    "search, every route behind a password (users: portal.users in recon.yaml).")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")

    command("hash-password", "read a password on standard input, print its hash for portal.users",
            "Read one password from standard input and print the hash to put under portal.users in recon.yaml.")

    prepare = command("prepare", "build the dbt manifest (done by `make install`)",
                      "Parse the dbt project into its manifest, which the Dagster definitions read.")
    prepare.add_argument("--instance", action="store_true",
                         help="only write $RECON_HOME/dagster/dagster.yaml for these settings (done by `make ui`)")

    demo = command("demo", "generate a demo week into $RECON_HOME's inbox and run it",
                   "Generate payments, bank statements and events with known answers (the truth file) into "
                   "$RECON_HOME's inbox folders, then run every day through the pipeline, as `recon run` would.")
    demo.add_argument("--start", type=_date, default=dt.date(2026, 11, 9), metavar="YYYY-MM-DD",
                      help="first day (default 2026-11-09)")
    demo.add_argument("--days", type=int, default=7, help="how many days (default 7)")
    demo.add_argument("--per-day", type=int, default=20, help="payments per day (default 20)")
    demo.add_argument("--seed", type=int, default=42, help="random seed: the same seed gives the same data (default 42)")
    return parser


def _quiet_unraisable(unraisable) -> None:
    logging.getLogger("recon").debug("ignored while cleaning up: %r in %r", unraisable.exc_value, unraisable.object)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if os.environ.get("RECON_LOG_LEVEL", "").upper() != "DEBUG":
        # Library deprecation and beta notices are for us, not for the person closing a cycle.
        warnings.simplefilter("ignore")
        # Nor are "Exception ignored in <generator ...>" traces that Python prints while it
        # cleans up after a failed run (dagster-dbt's event stream, cut off by a lost
        # connection): the one-line reason above them is what the operator acts on.
        sys.unraisablehook = _quiet_unraisable
    try:
        settings = load_settings(args.config)
        if args.command == "inspect":
            return _inspect(args, settings)
        if args.command == "run":
            return _run(settings, args)
        if args.command == "resolve":
            return _resolve(settings, args)
        if args.command == "match":
            return _match(settings, args)
        if args.command == "release":
            _require_warehouse(settings, "release")
            return _decided(settings, release_item(settings, args.item_key, args.action, args.reason, args.user))
        if args.command == "audit":
            return _audit_verify(settings)
        if args.command == "prepare" and args.instance:
            prepare_instance(settings)
            print(f"Dagster instance: {settings.dagster_home / 'dagster.yaml'}")
            return 0
        if args.command == "serve":
            from recon_pipeline.portal.server import serve

            return serve(settings, args.host, args.port)
        if args.command == "hash-password":
            return _hash_password()
        if args.command == "prepare":
            print(f"dbt manifest ready: {ensure_manifest(force=True)}")
            return 0
        if args.command == "demo":
            return _demo(settings, args)
    except ConfigError as exc:
        return _fail(f"configuration: {exc}")
    except Exception as exc:  # every failure leaves as one line, never a traceback
        if isinstance(exc, (PipelineError, WarehouseUnavailable, ValueError, LookupError)):
            return _fail(str(exc))
        return _fail(exception_line(exc))
    return 2


def _hash_password() -> int:
    from recon_pipeline.portal.auth import hash_password

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        return _fail("no password on standard input")
    print(hash_password(password))
    return 0


def _fail(reason: str) -> int:
    print(f"recon: {reason}", file=sys.stderr)
    return 1


def _require_warehouse(settings: Settings, what: str) -> None:
    """A decision needs built cycles: without a warehouse say so, and create nothing (opening a
    DuckDB file that is not there would make an empty one, and ./recon_home with it)."""
    if not settings.uses_postgres and not settings.duckdb_path.exists():
        raise LookupError(f"no warehouse at {settings.duckdb_path}: nothing to {what} yet "
                          "(run `recon run` first, or set RECON_HOME to the home that has one)")


def _decided(settings: Settings, recorded: Recorded) -> int:
    """Rebuild what a recorded decision changes (a line per step and cycle), then say what was recorded."""
    from orchestration.apply import apply_recorded

    print(apply_recorded(settings, recorded, echo=_echo))
    return 0


def _echo(line: str) -> None:
    print(line, flush=True)


def _audit_verify(settings: Settings) -> int:
    if not settings.uses_postgres and not settings.duckdb_path.exists():
        return _fail(f"no warehouse at {settings.duckdb_path}: nothing to verify")
    with open_warehouse(settings, read_only=not settings.uses_postgres) as wh:
        count, broken = verify_chain(read_audit_log(wh))
    if broken is not None:
        return _fail(f"audit trail BROKEN at {broken}")
    print(f"audit trail intact: {count} record(s)")
    return 0


def _resolve(settings: Settings, args: argparse.Namespace) -> int:
    if args.from_xlsx:
        if args.exception_id or args.action or args.reason or args.amount or args.account:
            return _usage("recon resolve --from-xlsx FILE --by USER takes the decisions from the sheet alone")
        _require_warehouse(settings, "resolve")
        return _decided(settings, resolve_from_xlsx(settings, Path(args.from_xlsx), args.user))
    if not (args.exception_id and args.action and args.reason is not None):
        return _usage("recon resolve EXCEPTION_ID --action ACTION --reason TEXT --by USER "
                      "(or --from-xlsx FILE --by USER)")
    _require_warehouse(settings, "resolve")
    return _decided(settings, resolve_exception(settings, args.exception_id, args.action, args.reason, args.user,
                                                amount=parse_amount(args.amount), account=args.account))


def _match(settings: Settings, args: argparse.Namespace) -> int:
    if args.undo:
        if args.payment or args.bank_line:
            return _usage("recon match --undo MANUAL_MATCH_ID --reason TEXT --by USER")
        _require_warehouse(settings, "undo")
        return _decided(settings, undo_manual_match(settings, args.undo, args.reason, args.user))
    if not (args.payment and args.bank_line):
        return _usage("recon match --payment PAYMENT_ID --bank-line BANK_LINE_ID --reason TEXT --by USER")
    _require_warehouse(settings, "match")
    return _decided(settings, manual_match(settings, args.payment, args.bank_line, args.reason, args.user))


def _usage(message: str) -> int:
    print(f"recon: usage: {message}", file=sys.stderr)
    return 2


def _inspect(args: argparse.Namespace, settings: Settings) -> int:
    argv = [args.file] + (["--json"] if args.json else []) + (
        ["--csv-profile", args.csv_profile] if args.csv_profile else [])
    return inspect_main(argv, csv_profiles=settings.csv_profiles)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from orchestration.runner import run_pipeline

    through = args.through or args.cycle
    forgotten = _forget_warehouse(settings) if args.rebuild else None
    results = run_pipeline(settings, through, only=args.cycle, echo=_echo)
    if args.rebuild:
        _record_rebuild(settings, forgotten, getattr(args, "user", None))
    built = sum(1 for r in results if r.success)
    print(f"{built} pay cycle(s) built; close packs in {settings.reports_dir}")
    print(f"Dagster UI: DAGSTER_HOME={settings.dagster_home} dagster dev -w workspace.yaml  (or: make ui)")
    raise_for_blocked(results)
    return 0


def _forget_warehouse(settings: Settings) -> str | None:
    target = warehouse_target(settings)
    forgotten = forget_recorded(settings.home, target)
    if forgotten:
        print(f"rebuilding: this home no longer expects warehouse {forgotten} at {target}")
    return forgotten


def _record_rebuild(settings: Settings, forgotten: str | None, user: str | None) -> None:
    """An auditor asks why the chain restarts: the rebuilt warehouse's trail says so first."""
    with open_warehouse(settings) as wh:
        append_audit(wh, user or os.environ.get("USER", "recon"), "warehouse.rebuild",
                     str(settings.home), {"previous_warehouse_id": forgotten})


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from orchestration.runner import run_pipeline
    from recon_pipeline.scenario.generator import generate_scenario

    settings.ensure_dirs()
    target = settings.home / "demo"
    settings, participants = _demo_internal_consistency(settings, args.config)
    scenario = generate_scenario(target, start=args.start, days=args.days,
                                 payments_per_day=args.per_day, seed=args.seed, participants=participants)
    _copy_tree(scenario.statements_dir, settings.statements_dir)
    _copy_tree(scenario.events_dir, settings.events_dir)
    for folder in scenario.service_events_dirs:   # our other services' reports (CONTRACT §6)
        _copy_tree(folder, settings.events_dir / folder.name)
    print(f"generated {args.days} day(s) of demo data from {args.start} (truth: {scenario.truth_path})")
    last = args.start + dt.timedelta(days=args.days - 1)
    results = run_pipeline(settings, last, echo=_echo)
    print()
    print(f"{sum(1 for r in results if r.success)} pay cycle(s) reconciled. Close packs:")
    for r in results:
        print(f"  {r.close_pack}" if r.success else f"  {r.pay_cycle}: {r.error}")
    print()
    print("Open the Dagster UI with:  make ui   (then http://127.0.0.1:3000)")
    return 0


def _demo_internal_consistency(settings: Settings, config_arg: str | None):
    """The demo shows our own services' breaks too (CONTRACT §6). With no configuration file
    at all (``make demo`` on a fresh clone) it runs with the generator's internal_consistency
    section, written as the home's own ``recon.yaml``, so every later command on that home
    (``recon resolve``, ``recon run``, ``make ui``) reads the same configuration; a user's own
    recon.yaml is left alone and its section, if any, used. Returns the settings to run with
    and whether to generate the participant services."""
    if settings.internal_consistency is not None:
        return settings, True
    config = settings.home / "recon.yaml"
    if config_arg or os.environ.get("RECON_CONFIG") or Path("recon.yaml").is_file() or config.is_file():
        return settings, False
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("# Written by `recon demo`: our services' flows in the generated data (CONTRACT §6).\n"
                      + config_yaml(), encoding="utf-8")
    # The pipeline's runs find it through the home, like every later command.
    os.environ["RECON_HOME"] = str(settings.home)
    return load_settings(), True


def _copy_tree(src: Path, dst: Path | None) -> None:
    if dst is None:
        raise ValueError("the demo needs local inbox folders (unset RECON_SFTP_URL / RECON_KAFKA_BOOTSTRAP)")
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.iterdir()):
        if path.is_file():
            shutil.copy2(path, dst / path.name)


if __name__ == "__main__":
    sys.exit(main())
