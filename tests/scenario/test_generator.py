"""The scenario generator must produce inputs a reconciler can be judged against.

These tests use only the generator's own output and the event model - not the statement
parsers - so that a parser bug shows up in the parser's tests, not as a generator failure.
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from recon_pipeline.events.model import EventRejected, parse_event
from recon_pipeline.scenario.generator import (
    ACCOUNTS,
    COUNTERPARTIES,
    DEFAULT_KIND_WEIGHTS,
    KINDS,
    KNOWN_RETURN_REASONS,
    OPT_IN_KINDS,
    generate_scenario,
    iban_is_valid,
    make_iban,
)
from recon_pipeline.scenario.writers import Entry, Party, StatementDoc
from recon_pipeline.scenario.writers.mt940 import wrap_86, write_mt940

START = dt.date(2026, 11, 9)
NS = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    return generate_scenario(tmp_path_factory.mktemp("week"), START, days=7, payments_per_day=20,
                             seed=42)


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory):
    return generate_scenario(tmp_path_factory.mktemp("poisoned"), START, days=4,
                             payments_per_day=8, seed=7, poison=True)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _event_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8").splitlines()


def _payload(line: str) -> str:
    """The event JSON of a snapshot line, bare or wrapped in a kcat -J envelope."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return line
    if isinstance(obj, dict) and "payload" in obj and "topic" in obj:
        return obj["payload"]
    return line


def _parsed_events(scenario):
    good, bad = [], []
    for path in sorted(scenario.events_dir.iterdir()):
        for line in _event_lines(path):
            try:
                good.append((path.name, parse_event(_payload(line))))
            except EventRejected as exc:
                bad.append((path.name, str(exc)))
    return good, bad


# ----------------------------------------------------------------------------- determinism
def test_same_seed_gives_byte_identical_files(tmp_path):
    a = generate_scenario(tmp_path / "a", START, days=3, payments_per_day=10, seed=5, poison=True)
    b = generate_scenario(tmp_path / "b", START, days=3, payments_per_day=10, seed=5, poison=True)
    fa, fb = _files(a.out_dir), _files(b.out_dir)
    assert fa.keys() == fb.keys()
    assert fa == fb


def test_different_seed_gives_different_data(tmp_path):
    a = generate_scenario(tmp_path / "a", START, days=3, payments_per_day=10, seed=5)
    b = generate_scenario(tmp_path / "b", START, days=3, payments_per_day=10, seed=6)
    fa, fb = _files(a.out_dir), _files(b.out_dir)
    assert fa.keys() == fb.keys()
    assert fa["truth.json"] != fb["truth.json"]
    assert sum(fa[k] != fb[k] for k in fa) >= len(fa) - 1


# ----------------------------------------------------------------------------- events
def test_every_event_line_is_a_valid_payment_event(week):
    good, bad = _parsed_events(week)
    assert bad == []
    assert len(good) == week.truth["counts"]["event_lines"]
    unique = {ev.event_id for _, ev in good}
    assert len(unique) == week.truth["counts"]["events"]
    assert len(good) - len(unique) == week.truth["counts"]["redelivered"] > 0


def test_snapshots_come_bare_enveloped_and_gzipped(week):
    names = sorted(p.name for p in week.events_dir.iterdir())
    assert len(names) == 7
    assert sum(n.endswith(".jsonl.gz") for n in names) == 1
    envelopes = 0
    for path in week.events_dir.iterdir():
        for line in _event_lines(path):
            obj = json.loads(line)
            if "payload" in obj:
                envelopes += 1
                assert obj["topic"] == "payments.events" and obj["tstype"] == "create"
                assert isinstance(obj["partition"], int) and isinstance(obj["offset"], int)
                assert obj["key"] == json.loads(obj["payload"])["payment_id"]
    assert envelopes > 0


def test_redelivered_events_repeat_the_identical_line(week):
    by_id: dict[str, set[str]] = defaultdict(set)
    for path in week.events_dir.iterdir():
        for line in _event_lines(path):
            payload = _payload(line)
            by_id[json.loads(payload)["event_id"]].add(payload)
    assert all(len(texts) == 1 for texts in by_id.values())


def test_some_events_carry_an_unknown_extra_field(week):
    good, _ = _parsed_events(week)
    assert any(ev.extra for _, ev in good)


def test_event_times_stay_clear_of_midnight_and_define_the_pay_cycle(week):
    good, _ = _parsed_events(week)
    sent = {}
    for _, ev in good:
        seconds = ev.occurred_at.hour * 3600 + ev.occurred_at.minute * 60 + ev.occurred_at.second
        assert 3600 <= seconds <= 23 * 3600
        if ev.event_type == "payment.sent":
            sent[ev.payment_id] = ev.occurred_at.date().isoformat()
    for p in week.truth["payments"]:
        assert sent[p["payment_id"]] == p["pay_cycle"]


def test_expected_payment_status_is_the_last_event(week):
    good, _ = _parsed_events(week)
    last = {}
    for _, ev in sorted(good, key=lambda item: item[1].occurred_at):
        last[ev.payment_id] = ev.event_type.split(".")[1]
    for p in week.truth["payments"]:
        assert last[p["payment_id"]] == p["expected_payment_status"]


# ----------------------------------------------------------------------------- statements
def _camt_files(scenario):
    return sorted(p for p in scenario.statements_dir.glob("*.xml") if not p.name.startswith("broken_"))


def _camt_summary(path: Path):
    root = etree.fromstring(path.read_bytes())
    stmt = root.find("c:BkToCstmrStmt/c:Stmt", NS)

    def bal(code):
        el = stmt.xpath("c:Bal[c:Tp/c:CdOrPrtry/c:Cd=$code]", namespaces=NS, code=code)[0]
        amount = Decimal(el.findtext("c:Amt", namespaces=NS))
        return amount if el.findtext("c:CdtDbtInd", namespaces=NS) == "CRDT" else -amount

    entries = []
    for ntry in stmt.findall("c:Ntry", NS):
        amount = Decimal(ntry.findtext("c:Amt", namespaces=NS))
        sign = 1 if ntry.findtext("c:CdtDbtInd", namespaces=NS) == "CRDT" else -1
        entries.append((ntry.findtext("c:AcctSvcrRef", namespaces=NS), sign * amount, ntry))
    count = int(stmt.findtext("c:TxsSummry/c:TtlNtries/c:NbOfNtries", namespaces=NS))
    return bal("OPBD"), bal("CLBD"), entries, count, stmt


def test_camt_files_are_well_formed_and_balances_chain(week):
    files = _camt_files(week)
    assert len(files) == 7
    truth_lines = defaultdict(list)
    for line in week.truth["bank_lines"]:
        truth_lines[line["file"]].append(line)
    previous_closing = None
    for path in files:
        opening, closing, entries, count, stmt = _camt_summary(path)
        assert stmt.findtext("c:Acct/c:Id/c:IBAN", namespaces=NS) == ACCOUNTS[0].iban
        assert opening + sum(a for _, a, _ in entries) == closing
        if previous_closing is not None:
            assert opening == previous_closing
        previous_closing = closing
        assert count == len(entries)
        expected = {(ln["bank_reference"], Decimal(ln["amount"])) for ln in truth_lines[path.name]}
        assert {(ref, a) for ref, a, _ in entries} == expected
    assert previous_closing == Decimal(week.truth["accounts"][0]["closing_balance"])


def test_camt_batches_list_each_payment_in_tx_details(week):
    payments = {p["payment_id"]: p for p in week.truth["payments"]}
    batch_groups = [g for g in week.truth["match_groups"] if g["kind"] in ("batch", "partial_batch")
                    and g["account_iban"] == ACCOUNTS[0].iban]
    assert batch_groups
    entries = {ref: ntry for path in _camt_files(week) for ref, _, ntry in _camt_summary(path)[2]}
    for group in batch_groups:
        ntry = entries[group["bank_references"][0]]
        e2e = ntry.xpath("c:NtryDtls/c:TxDtls/c:Refs/c:EndToEndId/text()", namespaces=NS)
        assert sorted(e2e) == sorted(payments[pid]["end_to_end_id"] for pid in group["payment_ids"])
        assert ntry.findtext("c:NtryDtls/c:Btch/c:NbOfTxs", namespaces=NS) == str(len(e2e))


def _mt940(path: Path):
    """A deliberately tiny reader: balances and :61: amounts/references only."""
    lines = path.read_bytes().decode("ascii").split("\r\n")
    assert lines[-1] == "" and not any("\n" in line or "\r" in line for line in lines)
    text = "\n".join(lines)

    def balance(tag):
        m = re.search(rf"^:{tag}:([CD])(\d{{6}})EUR([\d,]+)$", text, re.M)
        value = Decimal(m.group(3).replace(",", "."))
        return value if m.group(1) == "C" else -value

    entries = []
    for m in re.finditer(r"^:61:(\d{6})(\d{4})([CD])([\d,]+)N(\w{3})(.{1,16}?)//(\S+)$", text, re.M):
        amount = Decimal(m.group(4).replace(",", "."))
        entries.append((m.group(7), amount if m.group(3) == "C" else -amount, m.group(6)))
    return lines[:-1], balance("60F"), balance("62F"), entries


def test_mt940_lines_fit_65_characters_and_balances_chain(week):
    files = sorted(week.statements_dir.glob("*.sta"))
    assert len(files) == 7
    truth_lines = defaultdict(list)
    for line in week.truth["bank_lines"]:
        truth_lines[line["file"]].append(line)
    previous_closing = None
    for path in files:
        lines, opening, closing, entries = _mt940(path)
        assert all(len(line) <= 65 for line in lines)
        assert opening + sum(a for _, a, _ in entries) == closing
        if previous_closing is not None:
            assert opening == previous_closing
        previous_closing = closing
        expected = {(ln["bank_reference"], Decimal(ln["amount"])) for ln in truth_lines[path.name]}
        assert {(ref, a) for ref, a, _ in entries} == expected


def test_mt940_keeps_16_characters_of_the_reference_and_truncates_eref_when_told(week):
    lines = {(ln["account_iban"], ln["bank_reference"]): ln for ln in week.truth["bank_lines"]}
    payments = {p["payment_id"]: p for p in week.truth["payments"]}
    ours = {p["end_to_end_id"] for p in payments.values()}
    assert all(len(e2e) > 16 for e2e in ours)
    assert len({e2e[:16] for e2e in ours}) == len(ours)
    truncated = 0
    for path in sorted(week.statements_dir.glob("*.sta")):
        raw_lines, _, _, entries = _mt940(path)
        text = "".join(raw_lines)  # ING wraps :86: mid-value; joined, the sub-fields read whole
        for ref, _, customer_ref in entries:
            truth = lines[(ACCOUNTS[1].iban, ref)]
            assert len(customer_ref) <= 16
            if truth["end_to_end_id"]:
                assert customer_ref == truth["end_to_end_id"][:16]
                assert f"/EREF/{truth['end_to_end_id']}/" in text
            if truth["kind"] == "truncated_ref":
                truncated += 1
                assert len(truth["end_to_end_id"]) == 16
    assert truncated > 0


def test_mt940_narrative_wraps_without_breaking_on_blanks_or_tags():
    text = "/EREF/E2E-261109-00001-ACME//CNTP/NL91ABNA0417164300/ABNANL2A/" + "AB CD-EF " * 30 + "/"
    wrapped = wrap_86(text)
    assert "".join(wrapped)[4:] == text
    for i, line in enumerate(wrapped):
        assert len(line) <= 65 and not line.endswith(" ")
        if i:
            assert line[0] not in " :-"


def test_mt940_writer_folds_text_into_the_swift_character_set():
    entry = Entry(amount=Decimal("-12.30"), booking_date=START, value_date=START,
                  bank_reference="2611090001",
                  end_to_end_id="E2E-261109-00001-MULL",
                  counterparty=Party("Müller & Söhne <GmbH>", "DE89370400440532013000", "COBADEFF", "Köln"),
                  remittance="Rechnung 12/34: Dank")
    data = write_mt940(StatementDoc("NL91ABNA0417164300", "EUR", START, 313, Decimal("-5.00"), (entry,)))
    text = data.decode("ascii")
    assert ":60F:D261108EUR5,00" in text and ":62F:D261109EUR17,30" in text
    joined = "".join(text.split("\r\n"))
    assert "Mueller Soehne GmbH" in joined and "Koeln" in joined and "Rechnung 12-34 Dank" in joined


# ----------------------------------------------------------------------------- truth
def test_ibans_pass_mod_97(week):
    assert iban_is_valid("DE89370400440532013000") and not iban_is_valid("DE88370400440532013000")
    assert make_iban("DE", "370400440532013000") == "DE89370400440532013000"
    for account in week.truth["accounts"]:
        assert iban_is_valid(account["iban"])
    for cp in COUNTERPARTIES:
        assert iban_is_valid(cp.iban)
    good, _ = _parsed_events(week)
    assert all(iban_is_valid(ev.account_iban) and iban_is_valid(ev.counterparty_iban) for _, ev in good)


def test_every_truth_link_refers_to_an_existing_payment_and_bank_line(week):
    truth = week.truth
    payments = {p["payment_id"] for p in truth["payments"]}
    lines = {(ln["account_iban"], ln["bank_reference"]) for ln in truth["bank_lines"]}
    assert len(lines) == len(truth["bank_lines"]), "bank references must be unique per account"
    assert len(payments) == len(truth["payments"])
    for link in truth["links"]:
        assert link["payment_id"] in payments
        assert (link["account_iban"], link["bank_reference"]) in lines
    # Match groups and links describe the same pairs.
    pairs = {(pid, g["account_iban"], ref) for g in truth["match_groups"]
             for pid in g["payment_ids"] for ref in g["bank_references"]}
    assert pairs == {(ln["payment_id"], ln["account_iban"], ln["bank_reference"]) for ln in truth["links"]}


def test_verdicts_follow_the_settlement_window(week):
    truth = week.truth
    last = dt.date.fromisoformat(truth["last_cycle"])
    linked_payments = {ln["payment_id"] for ln in truth["links"]}
    linked_lines = {(ln["account_iban"], ln["bank_reference"]) for ln in truth["links"]}
    statuses = {"unmatched", "matched", "partial_match", "exception"}
    seen_open = Counter()
    for p in truth["payments"]:
        assert p["expected_recon_status"] in statuses
        assert (p["expected_exception_type"] is None) == (p["expected_recon_status"] in ("matched", "unmatched"))
        if p["payment_id"] not in linked_payments:
            age = (last - dt.date.fromisoformat(p["pay_cycle"])).days
            expected = ("exception", "missing_in_bank") if age >= 3 else ("unmatched", None)
            assert (p["expected_recon_status"], p["expected_exception_type"]) == expected
            seen_open[expected] += 1
    for ln in truth["bank_lines"]:
        assert (ln["expected_exception_type"] is None) == (ln["expected_recon_status"] in ("matched", "unmatched"))
        if (ln["account_iban"], ln["bank_reference"]) not in linked_lines and ln["kind"] != "duplicate_booking":
            age = (last - dt.date.fromisoformat(ln["booking_date"])).days
            expected = ("exception", "missing_in_books") if age >= 3 else ("unmatched", None)
            assert (ln["expected_recon_status"], ln["expected_exception_type"]) == expected
            seen_open[expected] += 1
    assert seen_open[("unmatched", None)] and seen_open[("exception", "missing_in_bank")]
    assert seen_open[("exception", "missing_in_books")]


def test_a_default_week_shows_every_kind_but_the_opt_in_ones(week):
    kinds = {p["kind"] for p in week.truth["payments"]} | {ln["kind"] for ln in week.truth["bank_lines"]}
    assert kinds == set(KINDS) - set(OPT_IN_KINDS) and set(KINDS) == set(DEFAULT_KIND_WEIGHTS)
    exact = sum(p["kind"] == "exact" for p in week.truth["payments"])
    others = Counter(p["kind"] for p in week.truth["payments"] if p["kind"] != "exact")
    assert exact > max(others.values())


def test_kind_specific_expectations(week):
    truth = week.truth
    payments = {p["payment_id"]: p for p in truth["payments"]}
    lines = {ln["bank_reference"]: ln for ln in truth["bank_lines"]}
    for group in truth["match_groups"]:
        members = [payments[pid] for pid in group["payment_ids"]]
        booked = [lines[ref] for ref in group["bank_references"]]
        paid = sum(Decimal(p["amount"]) * (-1 if p["direction"] == "outgoing" else 1) for p in members)
        total = sum(Decimal(ln["amount"]) for ln in booked)
        kind = group["kind"]
        if kind in ("exact", "late_settlement", "batch", "partial_batch", "split", "truncated_ref",
                    "business_duplicates", "no_reference", "status_mismatch", "duplicate_booking"):
            assert total == paid, group
        if kind == "fee":
            assert Decimal("0.50") <= abs(total - paid) <= Decimal("25.00")
        if kind == "amount_mismatch":
            assert abs(total - paid) > Decimal("50.00")
        if kind in ("batch", "partial_batch"):
            assert len(booked) == 1 and len({p["batch_id"] for p in members}) == 1
            assert len(members) == (4 if kind == "partial_batch" else len(members)) and 3 <= len(members) <= 5
        if kind == "split":
            assert len(booked) == 2 and len(members) == 1
        if kind == "late_settlement":
            lag = (dt.date.fromisoformat(booked[0]["booking_date"]) - dt.date.fromisoformat(members[0]["pay_cycle"])).days
            assert 1 <= lag <= 2
        if kind == "no_reference":
            assert booked[0]["end_to_end_id"] is None
        if kind.startswith("return_") and booked[0]["return_reason"]:
            known = booked[0]["return_reason"] in KNOWN_RETURN_REASONS
            assert known == (kind == "return_known")
            assert members[0]["expected_payment_status"] == "returned"
    # Business duplicates share beneficiary-day-amount yet never cross-link.
    dup_groups = [g for g in truth["match_groups"] if g["kind"] == "business_duplicates"]
    assert dup_groups and all(len(g["payment_ids"]) == 1 and len(g["bank_references"]) == 1 for g in dup_groups)
    # Amounts are unique apart from business duplicates, so a no-reference line finds one payment.
    amounts = Counter(p["amount"] for p in truth["payments"] if p["kind"] != "business_duplicates")
    assert max(amounts.values()) == 1
    # truncated_ref lives on the MT940 account, partial_batch on the camt account.
    for p in truth["payments"]:
        if p["kind"] == "truncated_ref":
            assert p["account_iban"] == ACCOUNTS[1].iban
        if p["kind"] == "partial_batch":
            assert p["account_iban"] == ACCOUNTS[0].iban


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown scenario kind"):
        generate_scenario(tmp_path, START, kinds={"exact": 1, "wormhole": 1})


def test_a_custom_mix_only_generates_the_kinds_asked_for(tmp_path):
    scenario = generate_scenario(tmp_path, START, days=2, payments_per_day=6, seed=1,
                                 kinds={"exact": 1, "return_known": 1})
    kinds = {p["kind"] for p in scenario.truth["payments"]}
    assert kinds == {"exact", "return_known"}


def test_a_single_day_still_produces_a_consistent_scenario(tmp_path):
    scenario = generate_scenario(tmp_path, START, days=1, payments_per_day=5, seed=3)
    kinds = {p["kind"] for p in scenario.truth["payments"]}
    assert "late_settlement" not in kinds and "return_known" not in kinds
    assert len(list(scenario.statements_dir.iterdir())) == 2
    assert scenario.cycles == [START]


# ----------------------------------------------------------------------------- poison
def test_poison_writes_two_bad_events_and_one_broken_statement(poisoned):
    assert poisoned.truth["poison"] == {"events": 2, "statement_files": 1}
    good, bad = _parsed_events(poisoned)
    assert len(bad) == 2 and len({name for name, _ in bad}) == 1
    assert any("not JSON" in reason for _, reason in bad)
    assert any("missing required" in reason for _, reason in bad)
    assert len(good) + len(bad) == poisoned.truth["counts"]["event_lines"]
    broken = list(poisoned.statements_dir.glob("broken_*.xml"))
    assert [p.name for p in broken] == ["broken_2026-11-09.xml"]
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(broken[0].read_bytes())


def test_without_poison_the_truth_says_so(week):
    assert week.truth["poison"] == {"events": 0, "statement_files": 0}
    assert not list(week.statements_dir.glob("broken_*"))


# ----------------------------------------------------------------------------- command line
def test_command_line_writes_the_same_scenario_as_the_function(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "recon_pipeline.scenario.generator", str(tmp_path / "cli"),
         "--start", "2026-11-09", "--days", "2", "--per-day", "5", "--seed", "11", "--poison"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "truth:" in result.stdout
    api = generate_scenario(tmp_path / "api", START, days=2, payments_per_day=5, seed=11, poison=True)
    assert _files(tmp_path / "cli") == _files(api.out_dir)


# ----------------------------------------------------------------------------- real parsers
def _have_dispatch() -> bool:
    try:
        from recon_pipeline.statements import parse_statement  # noqa: F401
    except ImportError:
        return False
    return True


_HAVE_DISPATCH = _have_dispatch()


@pytest.mark.skipif(not _HAVE_DISPATCH, reason="recon_pipeline.statements.dispatch not written yet")
def test_the_statement_parsers_read_every_generated_file_as_the_truth_says(week):
    from recon_pipeline.statements import parse_statement

    truth_lines = defaultdict(list)
    for line in week.truth["bank_lines"]:
        truth_lines[line["file"]].append(line)
    for path in sorted(week.statements_dir.iterdir()):
        parsed = parse_statement(path.read_bytes(), path.name)
        assert len(parsed.statements) == 1, path.name
        stmt = parsed.statements[0]
        expected = truth_lines[path.name]
        assert stmt.balanced is True, path.name
        assert len(stmt.lines) == len(expected), path.name
        assert stmt.movements == sum((Decimal(ln["amount"]) for ln in expected), Decimal("0"))
        by_ref = {line.bank_reference: line for line in stmt.lines}
        for ln in expected:
            got = by_ref[ln["bank_reference"]]
            assert got.amount == Decimal(ln["amount"]), (path.name, ln)
            assert got.booking_date == dt.date.fromisoformat(ln["booking_date"]), (path.name, ln)
            if ln["end_to_end_id"]:
                assert got.end_to_end_id == ln["end_to_end_id"], (path.name, ln)
            if ln["return_reason"]:
                assert got.return_reason == ln["return_reason"], (path.name, ln)


def _events_by_payment(scenario) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for path in sorted(scenario.events_dir.iterdir()):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for line in data.decode("utf-8").splitlines():
            obj = json.loads(line)
            obj = json.loads(obj["payload"]) if "payload" in obj else obj
            found.setdefault(obj["payment_id"], []).append(obj)
    return found


def test_cutoff_edge_payments_are_sent_a_moment_either_side_of_the_local_cutoff(tmp_path):
    # Amsterdam, 17:00 cut-off (CONTRACT §2): sent 17:00:30 local on the 9th -> cycle of the 10th.
    scenario = generate_scenario(tmp_path, START, days=4, payments_per_day=8, seed=3,
                                 kinds={"exact": 1, "cutoff_edge": 3}, timezone="Europe/Amsterdam",
                                 cutoff=dt.time(17, 0))
    assert (scenario.truth["timezone"], scenario.truth["cutoff"]) == ("Europe/Amsterdam", "17:00")
    events = _events_by_payment(scenario)
    edge = [p for p in scenario.truth["payments"] if p["kind"] == "cutoff_edge"]
    sides = set()
    for p in edge:
        sent = next(e for e in events[p["payment_id"]] if e["event_type"] == "payment.sent")
        local = dt.datetime.fromisoformat(sent["occurred_at"].replace("Z", "+00:00")).astimezone(
            ZoneInfo("Europe/Amsterdam"))
        cut = dt.datetime.combine(local.date(), dt.time(17, 0), local.tzinfo)
        assert abs((local - cut).total_seconds()) <= 91, sent["occurred_at"]
        after = local >= cut
        sides.add(after)
        expected_cycle = local.date() + dt.timedelta(days=1) if after else local.date()
        assert p["pay_cycle"] == expected_cycle.isoformat()
        line = next(ln for ln in scenario.truth["bank_lines"] if ln["end_to_end_id"] == p["end_to_end_id"])
        assert line["booking_date"] == p["pay_cycle"]
    assert sides == {True, False}


def test_a_tie_is_one_line_without_reference_and_two_identical_candidates(tmp_path):
    scenario = generate_scenario(tmp_path, START, days=6, payments_per_day=6, seed=5,
                                 kinds={"exact": 1, "tie": 2})
    lines = [ln for ln in scenario.truth["bank_lines"] if ln["kind"] == "tie"]
    payments = [p for p in scenario.truth["payments"] if p["kind"] == "tie"]
    assert lines and len(payments) == 2 * len(lines)
    for line in lines:
        assert line["end_to_end_id"] is None
        assert (line["expected_recon_status"], line["expected_exception_type"]) == ("exception", "ambiguous_match")
        twins = [p for p in payments if p["pay_cycle"] == line["booking_date"]
                 and p["account_iban"] == line["account_iban"] and Decimal(p["amount"]) == -Decimal(line["amount"])]
        assert len(twins) == 2
    assert not {(link["account_iban"], link["bank_reference"]) for link in scenario.truth["links"]} & \
        {(ln["account_iban"], ln["bank_reference"]) for ln in lines}


def test_a_days_event_file_takes_redeliveries_exactly_as_a_list_would():
    """The snapshot writer's block list (linear list inserts made a bank's day quadratic) must
    put every re-delivered event where ``list.insert`` would, or a seed's files would change."""
    import random

    from recon_pipeline.scenario.model import Event
    from recon_pipeline.scenario.snapshots import _DayFile

    rng = random.Random(3)
    for size in (0, 1, 511, 512, 513, 3000):
        events = [Event(at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC), obj={"event_id": str(i)}) for i in range(size)]
        plain, day = list(events), _DayFile(events)
        for _ in range(size // 2 + 5):
            if events and rng.random() < 0.6:   # again later in the same file
                event = rng.choice(events)
                assert day.index(event) == plain.index(event)
                at = rng.randrange(plain.index(event) + 1, len(plain) + 1)
            else:                                # from the day before, anywhere
                event = Event(at=dt.datetime(2026, 9, 30, tzinfo=dt.UTC), obj={"event_id": "x"})
                at = rng.randrange(len(plain) + 1)
            plain.insert(at, event)
            day.insert(at, event)
        assert len(day) == len(plain)
        assert [id(e) for e in day.events()] == [id(e) for e in plain]


def test_amounts_stay_unique_and_findable_at_a_banks_volume():
    """At 1,000,000 payments the usual amount bands fill up and a split's second part was
    searched for forever; wider bands keep every amount unique, and small scenarios unchanged."""
    import random

    from recon_pipeline.scenario.builder import Builder, amount_scale
    from recon_pipeline.scenario.traps.split import split

    assert amount_scale(100_000) == 1 and amount_scale(150_000) > 1
    b = Builder(random.Random(1), [dt.date(2026, 10, 1)], amount_scale=amount_scale(1_000_000))
    for _ in range(300_000):    # a bank's day of amounts, drawn the way the traps draw them
        b.amount()
    for _ in range(2_000):
        split(b, dt.date(2026, 10, 1))
    amounts = [abs(line.amount) for line in b.lines] + [p.amount for p in b.payments]
    assert len(amounts) == len(set(amounts))
