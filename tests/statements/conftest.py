"""Shared helpers for the statement-parser tests: the public sample corpus and its manifest.

The corpus lives outside the repository (``../shared/statements`` next to the checkout, or
``$RECON_SHARED_STATEMENTS``). Its absence is a failure, not a skip: these files are the
acceptance material for the parsers.
"""
from __future__ import annotations

import csv
import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

CORPUS_FOLDERS = ("camt052", "camt053", "camt054", "mt940", "mt942", "bai2", "ofx", "csv")
MISSING = "<shared statements folder missing>"
_OUTCOMES: list[tuple[str, str, str]] = []


def shared_statements_dir() -> Path:
    override = os.environ.get("RECON_SHARED_STATEMENTS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared" / "statements"


def corpus_files() -> list[str]:
    root = shared_statements_dir()
    if not root.is_dir():
        return []
    return sorted(
        f"{folder}/{path.name}"
        for folder in CORPUS_FOLDERS
        for path in (root / folder).glob("*")
        if path.is_file()
    )


def load_manifest() -> dict[str, dict[str, str]]:
    path = shared_statements_dir() / "MANIFEST.tsv"
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["local_path"]: row for row in csv.DictReader(handle, delimiter="\t")}


# ----------------------------------------------------------------------------- manifest cells
def cell_values(cell: str) -> list[str]:
    """A ``;``-joined cell as a list; blank means no value (empty list)."""
    cell = (cell or "").strip()
    return [v.strip() for v in cell.split(";")] if cell else []


def is_qualified(cell: str) -> bool:
    """``281.19 (USD, last row)``: a hand-written, qualified value rather than a plain number."""
    return "(" in (cell or "")


def decimal_or_none(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        return None


def manifest_accounts(cell: str) -> set[str] | None:
    """Normalised account ids; ``(none)``-style cells mean "no account in the file" -> {""};
    ``12345678 (Auftragskonto)`` keeps the id before the explanation."""
    cell = (cell or "").strip()
    if cell.startswith("("):
        return {""}
    out = set()
    for value in cell_values(cell):
        value = re.sub(r"\s*\([^)]*\)\s*$", "", value).strip().strip('"')
        out.add(normalise_account(value))
    return out


def normalise_account(value: str | None) -> str:
    return re.sub(r"\s+", "", (value or "").replace('""', '"')).strip('"').upper()


def manifest_currencies(cell: str) -> set[str] | None:
    """Currency codes in the cell; ``(not stated; BAI default USD)`` -> {USD}; None if unknown."""
    cell = (cell or "").strip()
    if cell.startswith("("):
        match = re.search(r"default ([A-Z]{3})", cell)
        return {match.group(1)} if match else None
    codes = {v for v in cell_values(cell) if re.fullmatch(r"[A-Z]{3}", v)}
    return codes or None


class CorpusHelpers:
    """What the corpus tests need, handed out as a fixture (test modules can't import conftest)."""

    MISSING = MISSING
    root = staticmethod(shared_statements_dir)
    files = staticmethod(corpus_files)
    manifest = staticmethod(load_manifest)
    cell_values = staticmethod(cell_values)
    is_qualified = staticmethod(is_qualified)
    decimal_or_none = staticmethod(decimal_or_none)
    manifest_accounts = staticmethod(manifest_accounts)
    manifest_currencies = staticmethod(manifest_currencies)
    normalise_account = staticmethod(normalise_account)


@pytest.fixture(scope="session")
def corpus() -> CorpusHelpers:
    return CorpusHelpers()


# ----------------------------------------------------------------------------- outcome table
def pytest_generate_tests(metafunc):
    if "corpus_file" in metafunc.fixturenames:
        files = corpus_files() or [MISSING]
        metafunc.parametrize("corpus_file", files)


@pytest.fixture
def corpus_outcomes() -> list[tuple[str, str, str]]:
    """Append (file, outcome, detail); the table is printed in the terminal summary."""
    return _OUTCOMES


def render_outcome_table(rows: list[tuple[str, str, str]]) -> str:
    width = max((len(r[0]) for r in rows), default=10)
    lines = [f"{'file':<{width}}  {'outcome':<11}  detail", "-" * (width + 40)]
    lines += [f"{name:<{width}}  {outcome:<11}  {detail}" for name, outcome, detail in sorted(rows)]
    counts: dict[str, int] = {}
    for _, outcome, _ in rows:
        counts[outcome] = counts.get(outcome, 0) + 1
    lines.append("-" * (width + 40))
    lines.append(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + f" (of {len(rows)})")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter):
    if _OUTCOMES:
        terminalreporter.write_sep("=", "shared statement corpus: per-file outcome")
        terminalreporter.write_line(render_outcome_table(_OUTCOMES))
