"""The one line per cycle never says "balance proof OK" for what was not proven (issue #11 item 7)."""
from __future__ import annotations

from pathlib import Path

from recon_pipeline.pipeline import CycleResult, format_cycle_line

ZERO = {f"{side}_{status}_count": 0 for side in ("payments", "bank_lines")
        for status in ("matched", "partial_match", "unmatched", "exception")}


def _line(*proofs):
    rows = [{**ZERO, "account_iban": f"ACC{i}", "balance_proof_ok": ok} for i, ok in enumerate(proofs)]
    return format_cycle_line(CycleResult("2026-11-10", True, Path("pack.xlsx"), rows))


def test_no_statement_means_no_balance_proof_not_ok():
    assert "no balance proof" in _line(None) and "OK" not in _line(None)
    assert "no balance proof" in _line()                              # a cycle with no account at all


def test_ok_names_the_accounts_without_proof_and_broken_wins():
    partly = _line(True, None)
    assert "no statement (no balance proof) for ACC1" in partly and "1 other account(s) proven" in partly
    assert "OK" not in partly
    assert _line(True, True).endswith("balance proof OK → pack.xlsx")
    assert "BROKEN for ACC1" in _line(True, False, None)
