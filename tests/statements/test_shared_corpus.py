"""Every public sample statement the manifest describes (it gives a statement count) parses to
what MANIFEST.tsv says; only a file the manifest gives no statements for may be quarantined,
with a one-line reason. Where the source repository ships its own parse result
(``expected/``), our entries agree with it on the fields both sides map.

Run with ``pytest -s`` to see the per-file outcome table as it is built; it is also printed
in the terminal summary.
"""
from __future__ import annotations

import ast
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from recon_pipeline.statements import ParsedFile, StatementParseError, parse_statement

MINOR_UNITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}


def test_shared_statement_corpus_is_present(corpus):
    root = corpus.root()
    assert root.is_dir(), (
        f"shared statement corpus not found at {root}; set RECON_SHARED_STATEMENTS to the folder "
        "holding camt053/, mt940/, bai2/ ... and MANIFEST.tsv"
    )
    assert (root / "MANIFEST.tsv").is_file(), f"{root}/MANIFEST.tsv is missing"


# ----------------------------------------------------------------------------- manifest checks
def _check_balance(c, cell: str, actual_per_statement: list, which: str) -> str | None:
    """Compare a manifest balance cell; returns a note when the cell is not comparable."""
    if c.is_qualified(cell):
        return f"{which} cell {cell!r} is qualified by hand; not compared"
    values = c.cell_values(cell)
    if not values:
        expected = None
        actual = actual_per_statement[0] if which == "opening" else actual_per_statement[-1]
        assert actual is None, f"{which}: manifest has none, parser gives {actual}"
        return None
    if len(values) > 1 and len(values) == len(actual_per_statement):
        expected_list = [c.decimal_or_none(v) for v in values]
        assert actual_per_statement == expected_list, f"{which} per statement: {actual_per_statement} != {expected_list}"
        return None
    expected = c.decimal_or_none(values[0] if which == "opening" else values[-1])
    actual = actual_per_statement[0] if which == "opening" else actual_per_statement[-1]
    assert actual == expected, f"{which}: manifest {expected}, parser {actual}"
    return None


def _check_against_manifest(c, parsed: ParsedFile, row: dict[str, str]) -> list[str]:
    notes = []
    statements = parsed.statements
    if row["number_of_statements"].strip().isdigit():
        assert len(statements) == int(row["number_of_statements"]), "statement count"
    if row["number_of_entries"].strip().isdigit():
        assert parsed.line_count == int(row["number_of_entries"]), "entry count"
    for which, cell, values in (
        ("opening", row["opening_balance"], [s.opening_balance for s in statements]),
        ("closing", row["closing_balance"], [s.closing_balance for s in statements]),
    ):
        note = _check_balance(c, cell, values, which)
        if note:
            notes.append(note)
    expected_accounts = c.manifest_accounts(row["account_id_or_iban"])
    actual_accounts = {c.normalise_account(s.account) for s in statements}
    assert actual_accounts == expected_accounts, f"accounts {actual_accounts} != manifest {expected_accounts}"
    expected_ccy = c.manifest_currencies(row["currency"])
    if expected_ccy is not None:
        # Statement currencies come from the manifest's list; together with the entries'
        # currencies (multi-currency CSV exports) they cover all of it.
        statement_ccy = {s.currency for s in statements}
        seen_ccy = statement_ccy | {line.currency for s in statements for line in s.lines}
        assert statement_ccy <= expected_ccy, f"statement currencies {statement_ccy} vs manifest {expected_ccy}"
        assert seen_ccy >= expected_ccy, f"currencies {seen_ccy} do not cover manifest {expected_ccy}"
    return notes


# ----------------------------------------------------------------------------- expected files
def _flat_lines(parsed: ParsedFile):
    return [line for stmt in parsed.statements for line in stmt.lines]


def _minor(amount: str, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-MINOR_UNITS.get(currency, 2))


def _compare_genkgo(parsed: ParsedFile, expected_path: Path) -> str:
    """genkgo/camt DTO dump: entry amounts (minor units), AcctSvcrRef, booking date, the
    EndToEndIds of the transaction details."""
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    entries = expected["getEntries"]
    by_id = {stmt.statement_id: stmt for stmt in parsed.statements}
    lines = []
    for entry in entries:
        # The dump is lossy for multi-record messages (records become "__RECURSIVITY__"), so
        # each entry is located by its record id and index rather than by position.
        record = entry.get("getRecord")
        stmt = by_id.get(record.get("getId")) if isinstance(record, dict) else parsed.statements[0]
        assert stmt is not None, f"record {record.get('getId')} not parsed"
        lines.append(stmt.lines[entry.get("getIndex") or 0])
    assert parsed.line_count >= len(entries), "entry count vs expected file"
    for n, (line, entry) in enumerate(zip(lines, entries), start=1):
        money = entry["getAmount"]
        ccy = money["getCurrency"]["getCode"]
        assert line.currency == ccy, f"entry {n} currency"
        exp = _minor(money["getAmount"], ccy)
        assert line.amount.quantize(Decimal(1).scaleb(-MINOR_UNITS.get(ccy, 2))) == exp, f"entry {n} amount"
        assert line.bank_reference == entry["getAccountServicerReference"] or (
            entry["getAccountServicerReference"] is None
        ), f"entry {n} AcctSvcrRef"
        booking = entry.get("getBookingDate")
        if booking:
            assert str(line.booking_date) == booking["0"][:10], f"entry {n} booking date"
        details = entry.get("getTransactionDetails") or []
        details = [entry["getTransactionDetail"] if d == "__RECURSIVITY__" else d for d in details]
        assert len(line.details) == len(details), f"entry {n} TxDtls count"
        for k, (ours, theirs) in enumerate(zip(line.details, details), start=1):
            ref = (theirs.get("getReference") or {}).get("getEndToEndId")
            ref = None if ref in (None, "NOTPROVIDED") else ref
            assert ours.end_to_end_id == ref, f"entry {n} TxDtls {k} EndToEndId"
            uetr = (theirs.get("getReference") or {}).get("getUuidEndToEndReference")
            if uetr:
                assert ours.uetr == uetr, f"entry {n} TxDtls {k} UETR"
            amount = theirs.get("getAmount")
            if amount and ours.amount is not None:
                # genkgo signs details with the entry's indicator; we keep the detail's own
                # CdtDbtInd (batches can mix directions), so compare magnitudes.
                assert abs(ours.amount) == abs(_minor(amount["getAmount"], amount["getCurrency"]["getCode"]))
    return f"matches {expected_path.name} ({len(entries)} entries)"


def _compare_oca(c, parsed: ParsedFile, expected_path: Path) -> str:
    """OCA Odoo test data: one transaction per TxDtls (batches expanded)."""
    currency, account, statements = ast.literal_eval(expected_path.read_text(encoding="utf-8"))
    assert parsed.statements[0].currency == currency
    assert c.normalise_account(parsed.statements[0].account) == c.normalise_account(account)
    for ours, theirs in zip(parsed.statements, statements):
        assert ours.opening_balance == Decimal(str(theirs["balance_start"]))
        assert ours.closing_balance == Decimal(str(theirs["balance_end_real"]))
        flat = []
        for line in ours.lines:
            if len(line.details) > 1:
                flat += [(d.amount, d.end_to_end_id, d.remittance_info, d.counterparty_name,
                          d.counterparty_iban, line.booking_date) for d in line.details]
            else:
                flat.append((line.amount, line.end_to_end_id, line.remittance_info, line.counterparty_name,
                             line.counterparty_iban, line.booking_date))
        assert len(flat) == len(theirs["transactions"]), "transactions (TxDtls expanded)"
        for n, (mine, txn) in enumerate(zip(flat, theirs["transactions"]), start=1):
            amount, e2e, remittance, name, iban, booking = mine
            assert amount == Decimal(str(txn["amount"])).quantize(Decimal("0.01")), f"txn {n} amount"
            assert txn["ref"] in (e2e, remittance), f"txn {n} ref {txn['ref']!r}"
            assert name == txn.get("partner_name"), f"txn {n} partner name"
            assert iban == txn.get("account_number"), f"txn {n} partner account"
            assert str(booking) == txn["date"], f"txn {n} date"
    return f"matches {expected_path.name}"


def _ref(value):
    if value is None:
        return None
    value = str(value).strip()
    return None if value.upper() in ("", "NONREF") else value


def _compare_mt940_yaml(parsed: ParsedFile, expected_path: Path) -> str:
    """wolph/mt940 object dump: amount (magnitude; the library's legacy reversal sign differs),
    value date and bank reference per transaction, in file order."""
    expected = yaml.unsafe_load(expected_path.read_text(encoding="utf-8"))
    transactions = expected.transactions
    lines = _flat_lines(parsed)
    assert len(lines) == len(transactions), "transaction count vs expected file"
    for n, (line, txn) in enumerate(zip(lines, transactions), start=1):
        data = txn.data
        amount = data["amount"].amount
        assert abs(line.amount) == abs(amount), f"txn {n} amount"
        if data.get("status") in ("C", "D"):
            assert line.amount == amount, f"txn {n} sign"
        assert line.value_date == data["date"], f"txn {n} value date"
        assert line.bank_reference == _ref(data.get("bank_reference")), f"txn {n} bank reference"
    return f"matches {expected_path.name} ({len(transactions)} txns)"


def _compare_mt940_rs(parsed: ParsedFile, expected_path: Path) -> str:
    """mt940-rs JSON: balances, then per line signed amount, dates and both references."""
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert len(parsed.statements) == len(expected)
    signs = {"Credit": 1, "Debit": -1, "ReverseCredit": -1, "ReverseDebit": 1}
    for ours, theirs in zip(parsed.statements, expected):
        for balance, mine in ((theirs["opening_balance"], ours.opening_balance),
                              (theirs["closing_balance"], ours.closing_balance)):
            sign = 1 if balance["debit_credit_indicator"] == "Credit" else -1
            assert mine == sign * Decimal(balance["amount"])
        assert len(ours.lines) == len(theirs["statement_lines"])
        for n, (line, exp) in enumerate(zip(ours.lines, theirs["statement_lines"]), start=1):
            assert line.amount == signs[exp["ext_debit_credit_indicator"]] * Decimal(exp["amount"]), f"line {n}"
            assert str(line.value_date) == exp["value_date"], f"line {n} value date"
            if exp["entry_date"]:
                assert str(line.booking_date) == exp["entry_date"], f"line {n} entry date"
            assert line.bank_reference == _ref(exp["bank_ref"]), f"line {n} bank ref"
            assert line.customer_reference == _ref(exp["customer_ref"]), f"line {n} customer ref"
    return f"matches {expected_path.name}"


def _compare_expected(c, rel: str, parsed: ParsedFile) -> str | None:
    folder = c.root() / rel.split("/")[0] / "expected"
    stem = Path(rel).stem
    for path in sorted(folder.glob(f"{stem}.expected.*")) if folder.is_dir() else []:
        if path.suffix == ".yml":
            return _compare_mt940_yaml(parsed, path)
        if path.suffix == ".pydata":
            return _compare_oca(c, parsed, path)
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "getEntries" in data:
                return _compare_genkgo(parsed, path)
            return _compare_mt940_rs(parsed, path)
    return None


# ----------------------------------------------------------------------------- the tests
def _manifest_says_it_parses(row: dict[str, str]) -> bool:
    count = (row.get("number_of_statements") or "").strip()
    return count.isdigit() and int(count) > 0


def test_corpus_file_parses_as_the_manifest_says_or_is_quarantined_with_a_reason(
    corpus_file, corpus_outcomes, corpus
):
    c = corpus
    assert corpus_file != c.MISSING, f"shared statement corpus not found at {c.root()}"
    manifest = c.manifest()
    assert corpus_file in manifest, f"{corpus_file} is not listed in MANIFEST.tsv"
    data = (c.root() / corpus_file).read_bytes()
    try:
        parsed = parse_statement(data, Path(corpus_file).name)
    except StatementParseError as exc:
        reason = str(exc)
        assert reason and "\n" not in reason
        if _manifest_says_it_parses(manifest[corpus_file]):
            corpus_outcomes.append((corpus_file, "NOT PARSED", reason))
            pytest.fail(f"{corpus_file}: the manifest gives {manifest[corpus_file]['number_of_statements']} "
                        f"statement(s), but it was quarantined: {reason}")
        corpus_outcomes.append((corpus_file, "quarantined", reason))
        print(f"\n{corpus_file}: quarantined: {reason}")
        return
    try:
        notes = _check_against_manifest(c, parsed, manifest[corpus_file])
        compared = _compare_expected(c, corpus_file, parsed)
    except AssertionError as exc:
        corpus_outcomes.append((corpus_file, "MISMATCH", str(exc).splitlines()[0]))
        raise
    detail = f"{parsed.format}, {len(parsed.statements)} stmt, {parsed.line_count} entries"
    if compared:
        detail += f"; {compared}"
    if notes:
        detail += "; " + "; ".join(notes)
    corpus_outcomes.append((corpus_file, "parsed", detail))
    print(f"\n{corpus_file}: parsed: {detail}")


def test_at_least_95_percent_of_camt_mt940_and_bai2_samples_parse(corpus):
    files = [f for f in corpus.files() if f.split("/")[0] in ("camt052", "camt053", "camt054", "mt940", "mt942", "bai2")]
    assert files, f"no camt/MT940/BAI2 samples under {corpus.root()}"
    failures = {}
    for rel in files:
        try:
            parse_statement((corpus.root() / rel).read_bytes(), rel)
        except StatementParseError as exc:
            failures[rel] = str(exc)
    parsed_share = 1 - len(failures) / len(files)
    assert parsed_share >= 0.95, f"only {parsed_share:.0%} parse; failures: {failures}"
