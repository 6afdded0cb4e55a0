"""The ``recon`` command line (CONTRACT.md §4).

Exit codes: 0 when the command did its job (whatever exceptions the data holds), 1 with a
one-line reason on stderr when it could not, 2 for a usage error.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import warnings
from pathlib import Path
from typing import Sequence

from recon_pipeline.one_line import exception_line
from recon_pipeline.settings import ConfigError, load_settings


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recon", description="Payment reconciliation per pay cycle.")
    parser.add_argument("--config", help="path to recon.yaml (default: $RECON_CONFIG or ./recon.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="pick up new input, build pay cycles in order, write close packs")
    when = run.add_mutually_exclusive_group(required=True)
    when.add_argument("--through", type=_date, help="build every pay cycle up to this date")
    when.add_argument("--cycle", type=_date, help="build this pay cycle (and earlier ones never built)")
    run.add_argument("--rebuild", action="store_true",
                     help="the warehouse was lost or replaced and that is intended: forget the id this home "
                          "recorded for it and rebuild every cycle from the landing zone (recorded in the "
                          "audit trail; operator decisions come back from their mirror)")

    inspect = sub.add_parser("inspect", help="parse one statement file and print its balances")
    inspect.add_argument("file")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")

    resolve = sub.add_parser("resolve", help="resolve an exception with a recorded reason, or every filled-in "
                                             "row of a close pack's exceptions sheet (--from-xlsx)")
    resolve.add_argument("exception_id", nargs="?")
    resolve.add_argument("--action", choices=["accept", "adjust", "escalate", "timing"])
    resolve.add_argument("--reason")
    resolve.add_argument("--amount", help="adjust: signed amount booked (default: the amount at stake)")
    resolve.add_argument("--account", help="adjust: account booked to (default: seeds/adjustment_accounts.csv)")
    resolve.add_argument("--from-xlsx", dest="from_xlsx", metavar="FILE",
                         help="apply the Action and Reason filled in on a close pack's exceptions sheet, all or none")
    resolve.add_argument("--by", required=True, dest="user")

    match = sub.add_parser("match", help="link a payment and a bank line by hand, with a reason "
                                         "(or take a manual match back with --undo)")
    match.add_argument("--payment")
    match.add_argument("--bank-line", dest="bank_line")
    match.add_argument("--undo", metavar="MANUAL_MATCH_ID", help="take back a manual match (it stays in the log)")
    match.add_argument("--reason", required=True)
    match.add_argument("--by", required=True, dest="user")

    release = sub.add_parser("release", help="end the hold a blocked pay cycle put on an event or bank line")
    release.add_argument("item_key", help="the held event_id or bank_line_id (see the held_items_outstanding check)")
    release.add_argument("--action", required=True, choices=["acknowledge", "exclude"])
    release.add_argument("--reason", required=True)
    release.add_argument("--by", required=True, dest="user")

    audit = sub.add_parser("audit", help="the hash-chained audit trail (ops.audit_log)")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="walk the chain; exit non-zero naming the first broken record")

    serve = sub.add_parser("serve", help="the finance portal (read-only, behind a password)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080)

    sub.add_parser("hash-password", help="read a password on standard input, print its hash for portal.users")

    prepare = sub.add_parser("prepare", help="build the dbt manifest (done by `make install`)")
    prepare.add_argument("--instance", action="store_true",
                         help="only write $RECON_HOME/dagster/dagster.yaml for these settings (done by `make ui`)")

    demo = sub.add_parser("demo", help="generate a demo week into $RECON_HOME's inbox and run it")
    demo.add_argument("--start", type=_date, default=dt.date(2026, 11, 9))
    demo.add_argument("--days", type=int, default=7)
    demo.add_argument("--per-day", type=int, default=20)
    demo.add_argument("--seed", type=int, default=42)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if os.environ.get("RECON_LOG_LEVEL", "").upper() != "DEBUG":
        # Library deprecation and beta notices are for us, not for the person closing a cycle.
        warnings.simplefilter("ignore")
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
            from recon_pipeline.holds import release_item

            print(release_item(settings, args.item_key, args.action, args.reason, args.user))
            return 0
        if args.command == "audit":
            return _audit_verify(settings)
        if args.command == "prepare" and args.instance:
            from recon_pipeline.dagster_instance import prepare_instance

            prepare_instance(settings)
            print(f"Dagster instance: {settings.dagster_home / 'dagster.yaml'}")
            return 0
        if args.command == "serve":
            from recon_pipeline.portal.server import serve

            return serve(settings, args.host, args.port)
        if args.command == "hash-password":
            return _hash_password()
        if args.command == "prepare":
            from recon_pipeline.dbt_setup import ensure_manifest

            print(f"dbt manifest ready: {ensure_manifest(force=True)}")
            return 0
        if args.command == "demo":
            return _demo(settings, args)
    except ConfigError as exc:
        return _fail(f"configuration: {exc}")
    except Exception as exc:  # every failure leaves as one line, never a traceback
        from recon_pipeline.pipeline import PipelineError
        from recon_pipeline.warehouse.connection import WarehouseUnavailable

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


def _audit_verify(settings) -> int:
    from recon_pipeline.audit import verify_chain
    from recon_pipeline.audit.log import read_audit_log
    from recon_pipeline.warehouse.connection import open_warehouse

    if not settings.uses_postgres and not settings.duckdb_path.exists():
        return _fail(f"no warehouse at {settings.duckdb_path}: nothing to verify")
    with open_warehouse(settings, read_only=not settings.uses_postgres) as wh:
        count, broken = verify_chain(read_audit_log(wh))
    if broken is not None:
        return _fail(f"audit trail BROKEN at {broken}")
    print(f"audit trail intact: {count} record(s)")
    return 0


def _resolve(settings, args: argparse.Namespace) -> int:
    from recon_pipeline.operators import parse_amount, resolve_exception, resolve_from_xlsx

    if args.from_xlsx:
        if args.exception_id or args.action or args.reason or args.amount or args.account:
            return _usage("recon resolve --from-xlsx FILE --by USER takes the decisions from the sheet alone")
        print(resolve_from_xlsx(settings, Path(args.from_xlsx), args.user))
        return 0
    if not (args.exception_id and args.action and args.reason is not None):
        return _usage("recon resolve EXCEPTION_ID --action ACTION --reason TEXT --by USER "
                      "(or --from-xlsx FILE --by USER)")
    print(resolve_exception(settings, args.exception_id, args.action, args.reason, args.user,
                            amount=parse_amount(args.amount), account=args.account))
    return 0


def _match(settings, args: argparse.Namespace) -> int:
    from recon_pipeline.operators import manual_match, undo_manual_match

    if args.undo:
        if args.payment or args.bank_line:
            return _usage("recon match --undo MANUAL_MATCH_ID --reason TEXT --by USER")
        print(undo_manual_match(settings, args.undo, args.reason, args.user))
        return 0
    if not (args.payment and args.bank_line):
        return _usage("recon match --payment PAYMENT_ID --bank-line BANK_LINE_ID --reason TEXT --by USER")
    print(manual_match(settings, args.payment, args.bank_line, args.reason, args.user))
    return 0


def _usage(message: str) -> int:
    print(f"recon: usage: {message}", file=sys.stderr)
    return 2


def _inspect(args: argparse.Namespace, settings) -> int:
    from recon_pipeline.statements.inspect import main as inspect_main

    return inspect_main([args.file] + (["--json"] if args.json else []), csv_profiles=settings.csv_profiles)


def _run(settings, args: argparse.Namespace) -> int:
    from recon_pipeline.pipeline import run_pipeline

    from recon_pipeline.pipeline import raise_for_blocked

    through = args.through or args.cycle
    forgotten = _forget_warehouse(settings) if args.rebuild else None
    results = run_pipeline(settings, through, only=args.cycle)
    if args.rebuild:
        _record_rebuild(settings, forgotten, getattr(args, "user", None))
    built = sum(1 for r in results if r.success)
    print(f"{built} pay cycle(s) built; close packs in {settings.reports_dir}")
    print(f"Dagster UI: DAGSTER_HOME={settings.dagster_home} dagster dev -w workspace.yaml  (or: make ui)")
    raise_for_blocked(results)
    return 0


def _forget_warehouse(settings) -> str | None:
    from recon_pipeline.warehouse.connection import warehouse_target
    from recon_pipeline.warehouse.identity import forget_recorded

    target = warehouse_target(settings)
    forgotten = forget_recorded(settings.home, target)
    if forgotten:
        print(f"rebuilding: this home no longer expects warehouse {forgotten} at {target}")
    return forgotten


def _record_rebuild(settings, forgotten: str | None, user: str | None) -> None:
    """An auditor asks why the chain restarts: the rebuilt warehouse's trail says so first."""
    from recon_pipeline.audit.log import append_audit
    from recon_pipeline.warehouse.connection import open_warehouse

    with open_warehouse(settings) as wh:
        append_audit(wh, user or os.environ.get("USER", "recon"), "warehouse.rebuild",
                     str(settings.home), {"previous_warehouse_id": forgotten})


def _demo(settings, args: argparse.Namespace) -> int:
    from recon_pipeline.pipeline import run_pipeline
    from recon_pipeline.scenario.generator import generate_scenario

    settings.ensure_dirs()
    target = settings.home / "demo"
    settings, participants = _demo_internal_consistency(settings, target, args.config)
    scenario = generate_scenario(target, start=args.start, days=args.days,
                                 payments_per_day=args.per_day, seed=args.seed, participants=participants)
    _copy_tree(scenario.statements_dir, settings.statements_dir)
    _copy_tree(scenario.events_dir, settings.events_dir)
    for folder in scenario.service_events_dirs:   # our other services' reports (CONTRACT §6)
        _copy_tree(folder, settings.events_dir / folder.name)
    print(f"generated {args.days} day(s) of demo data from {args.start} (truth: {scenario.truth_path})")
    last = args.start + dt.timedelta(days=args.days - 1)
    results = run_pipeline(settings, last)
    print()
    print(f"{sum(1 for r in results if r.success)} pay cycle(s) reconciled. Close packs:")
    for r in results:
        print(f"  {r.close_pack}" if r.success else f"  {r.pay_cycle}: {r.error}")
    print()
    print("Open the Dagster UI with:  make ui   (then http://127.0.0.1:3000)")
    return 0


def _demo_internal_consistency(settings, target: Path, config_arg: str | None):
    """The demo shows our own services' breaks too (CONTRACT §6). With no configuration file
    at all (``make demo`` on a fresh clone) it runs with the generator's internal_consistency
    section, written beside the demo data; a user's own recon.yaml is left alone and its
    section, if any, used. Returns the settings to run with and whether to generate the
    participant services."""
    if settings.internal_consistency is not None:
        return settings, True
    if config_arg or os.environ.get("RECON_CONFIG") or Path("recon.yaml").is_file():
        return settings, False
    from recon_pipeline.scenario.participants import config_yaml

    target.mkdir(parents=True, exist_ok=True)
    config = target / "recon.yaml"
    config.write_text(config_yaml(), encoding="utf-8")
    # The pipeline's runs read the configuration from the environment, like `recon run`'s.
    os.environ["RECON_CONFIG"] = str(config)
    os.environ["RECON_HOME"] = str(settings.home)
    return load_settings(), True


def _copy_tree(src: Path, dst: Path | None) -> None:
    import shutil

    if dst is None:
        raise ValueError("the demo needs local inbox folders (unset RECON_SFTP_URL / RECON_KAFKA_BOOTSTRAP)")
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.iterdir()):
        if path.is_file():
            shutil.copy2(path, dst / path.name)


if __name__ == "__main__":
    sys.exit(main())
