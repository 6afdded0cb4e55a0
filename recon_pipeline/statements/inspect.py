"""``recon inspect FILE [--json]``: what a statement file holds, per statement.

The report is the contract's exact JSON shape, so scripts can rely on it; the text form
shows the same numbers for people checking a file a bank just sent.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from recon_pipeline.statements.dispatch import parse_statement
from recon_pipeline.statements.model import StatementParseError


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def inspect_bytes(
    data: bytes,
    filename: str,
    csv_profile: str | None = None,
    csv_profiles: Mapping[str, Mapping] | None = None,
) -> dict:
    """Parse and summarise. Raises StatementParseError when the file cannot be parsed."""
    parsed = parse_statement(data, filename, csv_profile=csv_profile, csv_profiles=csv_profiles)
    return {
        "format": parsed.format,
        "statements": [
            {
                "account": stmt.account,
                "currency": stmt.currency,
                "opening_balance": _amount(stmt.opening_balance),
                "closing_balance": _amount(stmt.closing_balance),
                "entries": len(stmt.lines),
                "movements": str(stmt.movements),
                "balanced": stmt.balanced,
            }
            for stmt in parsed.statements
        ],
    }


def render_text(report: dict) -> str:
    blocks = []
    total = len(report["statements"])
    for n, stmt in enumerate(report["statements"], start=1):
        balanced = {True: "yes", False: "no", None: "unknown"}[stmt["balanced"]]
        rows = [
            ("format", report["format"]),
            ("account", stmt["account"] or "(none)"),
            ("currency", stmt["currency"]),
            ("opening", stmt["opening_balance"] if stmt["opening_balance"] is not None else "(none)"),
            ("closing", stmt["closing_balance"] if stmt["closing_balance"] is not None else "(none)"),
            ("entries", str(stmt["entries"])),
            ("movements", stmt["movements"]),
            ("balanced", balanced),
        ]
        title = f"statement {n} of {total}"
        blocks.append("\n".join([title] + [f"  {key:<10} {value}" for key, value in rows]))
    return "\n\n".join(blocks) + "\n"


def main(argv: Sequence[str] | None = None, csv_profiles: Mapping[str, Mapping] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recon inspect", description="Parse one bank statement file.")
    parser.add_argument("file")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--csv-profile", default=None, help="CSV column-mapping profile to use")
    args = parser.parse_args(argv)
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"recon inspect: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        report = inspect_bytes(data, path.name, csv_profile=args.csv_profile, csv_profiles=csv_profiles)
    except StatementParseError as exc:
        print(f"recon inspect: {args.file}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        sys.stdout.write(render_text(report))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
