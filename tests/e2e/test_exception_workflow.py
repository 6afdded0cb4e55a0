"""The exception workflow through the real `recon` command (issue 13, CONTRACT §2–§4).

A generated week is built once; finance's decisions then arrive the way they do in practice:
a close pack's exceptions sheet handed back with Action and Reason filled in (first with
mistakes, refused whole; then corrected), single `recon resolve` calls, and a bank line
that turns up after a timing decision. Everything is read back from the warehouse, the
audit trail and the regenerated close packs.
"""
from __future__ import annotations

import datetime as dt
import itertools
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from recon_pipeline.scenario.generator import generate_scenario
from recon_pipeline.scenario.writers import Entry, Party, StatementDoc
from recon_pipeline.scenario.writers.camt053 import write_camt053
from tests.e2e.conftest import START, ReconHome, deliver, make_home

DAYS = 5
BUILD_TIMEOUT = 3600  # a week of cycles on a shared, loaded machine
LAST = START + dt.timedelta(days=DAYS - 1)


def _copy_home(src: ReconHome, tmp: Path) -> ReconHome:
    home = make_home(tmp)
    shutil.copytree(src.home, home.home, symlinks=True)
    return home


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> tuple[ReconHome, dict]:
    import json

    tmp = tmp_path_factory.mktemp("workflow")
    scenario = generate_scenario(tmp / "scenario", start=START, days=DAYS, payments_per_day=10, seed=11)
    home = make_home(tmp)
    deliver(tmp / "scenario", home)
    home.run("run", "--through", LAST.isoformat(), timeout=BUILD_TIMEOUT)
    return home, json.loads(scenario.truth_path.read_text())


def _open_exceptions(home: ReconHome, cycle: dt.date) -> list[dict]:
    with home.warehouse() as wh:
        return wh.fetch_dicts("select * from marts.fct_exceptions where pay_cycle = ? and status = 'open' "
                              "order by exception_type, exception_id", (cycle,))


def _fill_sheet(pack: Path, out: Path, decisions: dict[str, tuple[str, str]], extra_rows=()) -> Path:
    """Finance's edit: Action and Reason typed into the pack's exceptions sheet (the columns are
    found by their header names; an Action column is added when this pack has none)."""
    wb = load_workbook(pack)
    ws = wb["Exceptions"]
    header_row, columns = None, {}
    for row in ws.iter_rows():
        names = {str(c.value).strip(): c.column for c in row if c.value is not None}
        if "Exception id" in names and "Status" in names:
            header_row, columns = row[0].row, names
            break
    assert header_row is not None, "the pack has an exceptions sheet with an 'Exception id' header"
    for name in ("Action", "Reason"):
        if name not in columns:
            columns[name] = ws.max_column + 1
            ws.cell(row=header_row, column=columns[name], value=name)
    seen = set()
    for r in range(header_row + 1, ws.max_row + 1):
        exception_id = ws.cell(row=r, column=columns["Exception id"]).value
        ws.cell(row=r, column=columns["Reason"], value=None)
        if exception_id in decisions:
            action, reason = decisions[exception_id]
            ws.cell(row=r, column=columns["Action"], value=action)
            ws.cell(row=r, column=columns["Reason"], value=reason)
            seen.add(exception_id)
    assert seen == set(decisions), "every decided exception is on the pack's sheet"
    for exception_id, status, action, reason in extra_rows:
        r = ws.max_row + 1
        ws.cell(row=r, column=columns["Exception id"], value=exception_id)
        ws.cell(row=r, column=columns["Status"], value=status)
        ws.cell(row=r, column=columns["Action"], value=action)
        ws.cell(row=r, column=columns["Reason"], value=reason)
    wb.save(out)
    return out


def _row_of(pack: Path, exception_id: str) -> int:
    ws = load_workbook(pack, read_only=True)["Exceptions"]
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if exception_id in row:
            return number
    raise AssertionError(f"{exception_id} not on the sheet")


@pytest.fixture(scope="module")
def decided(week, tmp_path_factory):
    """The week after finance handed back a bad sheet (refused) and then the corrected one."""
    built, truth = week
    home = _copy_home(built, tmp_path_factory.mktemp("decided"))
    opened = _open_exceptions(home, LAST)
    by_type: dict[str, list[dict]] = {}
    for e in opened:
        by_type.setdefault(e["exception_type"], []).append(e)
    missing = by_type["missing_in_bank"] + by_type.get("missing_in_books", [])
    assert len(missing) >= 3 and (by_type.get("probable_fee") or by_type.get("amount_mismatch"))
    link_level = (by_type.get("probable_fee") or by_type["amount_mismatch"])[0]
    picks = {"timing": missing[0], "accept": missing[1], "escalate": missing[2], "adjust": link_level}
    pack = home.settings().close_pack_path(LAST.isoformat())
    bad_pack = _fill_sheet(pack, home.home / "bad.xlsx", {
        picks["timing"]["exception_id"]: ("timing", "in transit, bank confirms value date tomorrow"),
        picks["accept"]["exception_id"]: ("write-off", "unknown action"),
        picks["escalate"]["exception_id"]: ("escalate", "   "),
        link_level["exception_id"]: ("timing", "a fee does not settle later"),
    }, extra_rows=[("ex_doesnotexist", "open", "accept", "typo in the id")])
    with home.warehouse() as wh:
        before = wh.fetchone("select count(*) from ops.exception_resolutions")[0]
    refused = home.run("resolve", "--from-xlsx", str(bad_pack), "--by", "carol", check=False)
    with home.warehouse() as wh:
        after_refusal = wh.fetchone("select count(*) from ops.exception_resolutions")[0]
    good_pack = _fill_sheet(pack, home.home / "good.xlsx", {
        picks["timing"]["exception_id"]: ("timing", "in transit, bank confirms value date tomorrow"),
        picks["accept"]["exception_id"]: ("accept", "written off: beneficiary bank closed"),
        picks["escalate"]["exception_id"]: ("Escalate", "no answer from the bank after two calls"),
        link_level["exception_id"]: ("adjust", "booked the difference as a bank charge"),
    })
    applied = home.run("resolve", "--from-xlsx", str(good_pack), "--by", "carol", check=False)
    return {"home": home, "truth": truth, "picks": picks, "pack": pack, "bad_pack": bad_pack,
            "good_pack": good_pack, "refused": refused, "applied": applied,
            "counts": (before, after_refusal)}


def test_a_bad_sheet_is_refused_whole_naming_each_bad_row(decided):
    refused, picks, bad = decided["refused"], decided["picks"], decided["bad_pack"]
    assert refused.returncode != 0
    before, after = decided["counts"]
    assert after == before, "nothing of a refused sheet is applied"
    message = refused.stderr
    assert f"row {_row_of(bad, picks['accept']['exception_id'])}: unknown action 'write-off'" in message
    assert f"row {_row_of(bad, picks['escalate']['exception_id'])}: empty reason" in message
    assert f"row {_row_of(bad, picks['adjust']['exception_id'])}: timing applies to an item" in message
    assert "unknown exception id 'ex_doesnotexist'" in message
    # the good row on the bad sheet is not named, and not applied either
    assert f"row {_row_of(bad, picks['timing']['exception_id'])}:" not in message


def test_the_corrected_sheet_is_applied_and_the_marts_show_every_action(decided):
    home, picks, applied = decided["home"], decided["picks"], decided["applied"]
    assert applied.returncode == 0, applied.stderr
    assert "applied 4 decision(s)" in applied.stdout
    assert f"cycle {LAST.isoformat()}" in applied.stdout, "a progress line per rebuilt cycle"
    with home.warehouse() as wh:
        rows = {r["exception_id"]: r for r in wh.fetch_dicts(
            "select * from marts.fct_exceptions where pay_cycle = ?", (LAST,))}
        log = {r["exception_id"]: r for r in wh.fetch_dicts("select * from ops.exception_resolutions")}
        payment_status = dict(wh.fetchall(
            "select payment_id, recon_status from marts.fct_payment_reconciliation where pay_cycle = ?", (LAST,)))
    accepted = rows[picks["accept"]["exception_id"]]
    assert (accepted["status"], accepted["resolution"], accepted["resolved_by"]) == ("resolved", "accept", "carol")
    assert accepted["reason"] == "written off: beneficiary bank closed"

    timing = rows[picks["timing"]["exception_id"]]
    assert (timing["status"], timing["resolution"]) == ("resolved", "timing")
    assert timing["timing_until"] == LAST + dt.timedelta(days=3)
    if timing["payment_id"]:
        assert payment_status[timing["payment_id"]] == "resolved"

    escalated = rows[picks["escalate"]["exception_id"]]
    before = picks["escalate"]
    assert escalated["status"] == "open" and escalated["resolution"] == "escalate"
    path = _seed("escalation_path.csv", "assigned_team", "escalate_to_team")
    assert escalated["assigned_team"] == path[before["assigned_team"]]
    assert int(escalated["priority"][1:]) == max(1, int(before["priority"][1:]) - 1)

    adjusted = rows[picks["adjust"]["exception_id"]]
    entry = log[picks["adjust"]["exception_id"]]
    assert (adjusted["status"], adjusted["resolution"]) == ("resolved", "adjust")
    # default: the amount at stake (bank minus books) to the type's account from the seed
    assert entry["adjustment_amount"] == picks["adjust"]["amount_difference"] != 0
    accounts = _seed("adjustment_accounts.csv", "exception_type", "adjustment_account")
    assert entry["adjustment_account"] == accounts[picks["adjust"]["exception_type"]]
    assert adjusted["adjustment_amount"] == entry["adjustment_amount"]


def test_the_regenerated_pack_shows_the_decisions(decided):
    ws = load_workbook(decided["pack"], read_only=True)["Exceptions"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(r for r in rows if "Exception id" in r)
    status = header.index("Status")
    listed = itertools.takewhile(lambda r: r and r[0], rows[rows.index(header) + 1:])  # the table ends at a blank row
    shown = {r[header.index("Exception id")]: r[status] for r in listed}
    picks = decided["picks"]
    assert shown[picks["accept"]["exception_id"]] == "resolved"
    assert shown[picks["timing"]["exception_id"]] == "resolved"
    assert shown[picks["escalate"]["exception_id"]] == "open"


def test_the_sheet_import_and_each_decision_are_in_the_audit_trail(decided):
    import hashlib

    home = decided["home"]
    with home.warehouse() as wh:
        records = wh.fetch_dicts("select actor, action, subject, details from ops.audit_log order by seq")
    imports = [r for r in records if r["action"] == "sheet_import"]
    assert len(imports) == 1, "the refused sheet records nothing; the applied one records its import"
    sha = hashlib.sha256(decided["good_pack"].read_bytes()).hexdigest()
    assert imports[0]["actor"] == "carol" and sha in imports[0]["details"]
    assert '"rows_applied":4' in imports[0]["details"]
    resolves = {r["subject"] for r in records if r["action"] == "resolve"}
    assert resolves == {p["exception_id"] for p in decided["picks"].values()}
    verify = home.run("audit", "verify")
    assert "intact" in verify.stdout


def test_the_same_sheet_handed_in_twice_is_refused_as_already_resolved(decided):
    home, picks = decided["home"], decided["picks"]
    again = home.run("resolve", "--from-xlsx", str(decided["good_pack"]), "--by", "dave", check=False)
    assert again.returncode != 0
    # the copy handed back still says "open": against the current state it is a stale copy
    assert "stale copy" in again.stderr and picks["accept"]["exception_id"] in again.stderr
    fresh = _fill_sheet(decided["pack"], home.home / "fresh.xlsx",
                        {picks["accept"]["exception_id"]: ("accept", "once more")})
    twice = home.run("resolve", "--from-xlsx", str(fresh), "--by", "dave", check=False)
    assert twice.returncode != 0 and "already resolved (accept by carol" in twice.stderr


def test_refused_single_decisions_name_their_reason(decided):
    home, picks = decided["home"], decided["picks"]
    open_fee = picks["escalate"]["exception_id"]  # still open after the escalation
    cases = [
        (["resolve", "ex_nope", "--action", "accept", "--reason", "x", "--by", "eve"], "unknown exception id"),
        (["resolve", open_fee, "--action", "accept", "--reason", "  ", "--by", "eve"], "empty reason"),
        (["resolve", picks["accept"]["exception_id"], "--action", "escalate", "--reason", "x", "--by", "eve"],
         "already resolved"),
        (["resolve", open_fee, "--action", "adjust", "--amount", "ten", "--reason", "x", "--by", "eve"],
         "--amount must be a decimal"),
        (["resolve", open_fee, "--action", "accept", "--amount", "1", "--reason", "x", "--by", "eve"],
         "--amount and --account go with --action adjust"),
    ]
    with home.warehouse() as wh:
        before = wh.fetchone("select count(*) from ops.exception_resolutions")[0]
    for args, expected in cases:
        proc = home.run(*args, check=False)
        assert proc.returncode == 1 and expected in proc.stderr, (args, proc.stderr)
    bad_action = home.run("resolve", open_fee, "--action", "ignore", "--reason", "x", "--by", "eve", check=False)
    assert bad_action.returncode == 2 and "invalid choice" in bad_action.stderr
    with home.warehouse() as wh:
        assert wh.fetchone("select count(*) from ops.exception_resolutions")[0] == before


def _seed(name: str, key: str, value: str) -> dict[str, str]:
    import csv

    path = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / name
    with open(path, newline="", encoding="utf-8") as fh:
        return {row[key]: row[value] for row in csv.DictReader(fh)}


def _late_booking(home: ReconHome, payment: dict, day: dt.date) -> None:
    """The bank books a payment we had given up on, days later, on its own statement."""
    signed = Decimal(payment["amount"]) * (-1 if payment["direction"] == "outgoing" else 1)
    entry = Entry(amount=signed, booking_date=day, value_date=day, bank_reference=f"LATE{day:%m%d}01",
                  end_to_end_id=payment["end_to_end_id"], counterparty=Party("Late Payee"),
                  domain_family="ICDT" if signed < 0 else "RCDT")
    doc = StatementDoc(account_iban=payment["account_iban"], currency=payment["currency"], statement_date=day,
                       sequence=900 + day.day, opening_balance=Decimal("0.00"), entries=(entry,))
    home.inbox_statements.mkdir(parents=True, exist_ok=True)
    (home.inbox_statements / f"late_{day.isoformat()}.xml").write_bytes(write_camt053(doc))


def test_timing_resolves_on_a_later_match_and_reopens_when_the_window_passes(week, tmp_path):
    built, truth = week
    home = _copy_home(built, tmp_path)
    missing = [e for e in _open_exceptions(home, LAST) if e["exception_type"] == "missing_in_bank"]
    assert len(missing) >= 2
    settles, lingers = missing[0], missing[1]
    for e in (settles, lingers):
        home.run("resolve", e["exception_id"], "--action", "timing", "--reason", "bank says in transit", "--by", "ann")
    payment = next(p for p in truth["payments"] if p["payment_id"] == settles["payment_id"])
    next_day = LAST + dt.timedelta(days=1)
    _late_booking(home, payment, next_day)
    reopen_day = LAST + dt.timedelta(days=3)
    home.run("run", "--through", reopen_day.isoformat(), timeout=BUILD_TIMEOUT)
    with home.warehouse() as wh:
        history = wh.fetch_dicts("select exception_id, pay_cycle, status, resolution, reason from marts.fct_exceptions "
                                 "where exception_id in (?, ?) order by pay_cycle",
                                 (settles["exception_id"], lingers["exception_id"]))
        matched = wh.fetch_dicts("select recon_status from marts.fct_payment_reconciliation "
                                 "where payment_id = ? and pay_cycle = ?", (settles["payment_id"], next_day))
    settled_rows = {r["pay_cycle"]: r for r in history if r["exception_id"] == settles["exception_id"]}
    assert (settled_rows[next_day]["status"], settled_rows[next_day]["resolution"]) == ("resolved", "auto_cleared")
    assert "timing" in settled_rows[next_day]["reason"]
    assert max(settled_rows) == next_day, "once matched, the exception is gone"
    assert matched == [{"recon_status": "matched"}]
    lingering = {r["pay_cycle"]: r for r in history if r["exception_id"] == lingers["exception_id"]}
    assert (lingering[next_day]["status"], lingering[next_day]["resolution"]) == ("resolved", "timing")
    assert (lingering[reopen_day]["status"], lingering[reopen_day]["resolution"]) == ("open", "timing_expired")
    assert "reopened: no match by" in lingering[reopen_day]["reason"]


def test_the_settlement_window_is_reached_at_age_three(week):
    """CONTRACT §2: sent on the 9th → in flight on the 11th (age 2), an exception on the 12th
    (age 3) and the 13th (age 4); the same for a bank line nobody booked."""
    built, truth = week
    seen = set()
    with built.warehouse() as wh:
        rows = wh.fetch_dicts("select payment_id as item, age_days, recon_status, exception_type "
                              "from marts.fct_payment_reconciliation where match_id is null "
                              "union all select bank_line_id, age_days, recon_status, exception_type "
                              "from marts.fct_bank_line_reconciliation where match_id is null")
    for r in rows:
        if r["exception_type"] not in (None, "missing_in_bank", "missing_in_books"):
            continue
        if r["age_days"] in (2, 3, 4):
            expected = ("unmatched", None) if r["age_days"] == 2 else ("exception", r["exception_type"])
            assert (r["recon_status"], r["exception_type"]) == expected, r
            if r["age_days"] >= 3:
                assert r["exception_type"] in ("missing_in_bank", "missing_in_books")
            seen.add(r["age_days"])
    assert seen == {2, 3, 4}


def test_decisions_survive_a_rebuild_from_scratch(decided, tmp_path):
    """The warehouse is derived data: deleted, it is rebuilt from the landing zone, and the
    operators' decisions come back from their mirror there, with the same effect."""
    home = _copy_home(decided["home"], tmp_path)

    def exceptions():
        with home.warehouse() as wh:
            return sorted(tuple(r) for r in wh.fetchall(
                "select exception_id, pay_cycle, status, resolution, resolved_by, reason, assigned_team, priority "
                "from marts.fct_exceptions"))

    before = exceptions()
    (home.home / "warehouse.duckdb").unlink()
    refused = home.run("run", "--through", LAST.isoformat(), check=False, timeout=BUILD_TIMEOUT)
    assert refused.returncode == 1 and "recon run --rebuild" in refused.stderr   # never recreated silently
    proc = home.run("run", "--rebuild", "--through", LAST.isoformat(), timeout=BUILD_TIMEOUT)
    assert "restored 4 operator decision(s)" in proc.stdout
    assert exceptions() == before
    with home.warehouse() as wh:
        assert wh.fetchone("select count(*) from ops.exception_resolutions")[0] == 4
        rebuilds = wh.fetchall("select action from ops.audit_log where action = 'warehouse.rebuild'")
    assert len(rebuilds) == 1


def test_a_manual_match_is_validated_recorded_and_undone_with_a_reason(week, tmp_path):
    built, truth = week
    home = _copy_home(built, tmp_path)
    missing = next(e for e in _open_exceptions(home, LAST) if e["exception_type"] == "missing_in_bank")
    payment = next(p for p in truth["payments"] if p["payment_id"] == missing["payment_id"])
    outgoing = payment["direction"] == "outgoing"
    with home.warehouse() as wh:
        other_account = wh.fetchone("select bank_line_id from marts.fct_bank_line_reconciliation "
                                    "where account_iban <> ? limit 1", (payment["account_iban"],))[0]
        wrong_sign = wh.fetchone("select bank_line_id from marts.fct_bank_line_reconciliation "
                                 f"where account_iban = ? and amount {'>' if outgoing else '<'} 0 limit 1",
                                 (payment["account_iban"],))[0]
    for line, expected in ((other_account, "a match stays within one account"), (wrong_sign, "is a ")):
        proc = home.run("match", "--payment", payment["payment_id"], "--bank-line", line, "--reason", "x",
                        "--by", "ann", check=False)
        assert proc.returncode == 1 and expected in proc.stderr, proc.stderr
    # the bank books it days later with no reference: nothing matches it by rule
    day = LAST + dt.timedelta(days=1)
    signed = Decimal(payment["amount"]) * (-1 if outgoing else 1)
    entry = Entry(amount=signed, booking_date=day, value_date=day, bank_reference="NOREF0001",
                  counterparty=Party("Unrelated Name Ltd"), domain_family="ICDT" if outgoing else "RCDT")
    home.inbox_statements.mkdir(parents=True, exist_ok=True)
    (home.inbox_statements / "noref.xml").write_bytes(write_camt053(StatementDoc(
        account_iban=payment["account_iban"], currency=payment["currency"], statement_date=day, sequence=990,
        opening_balance=Decimal("0.00"), entries=(entry,))))
    home.run("run", "--through", day.isoformat())
    with home.warehouse() as wh:
        line = wh.fetch_dicts("select bank_line_id, recon_status from marts.fct_bank_line_reconciliation "
                              "where pay_cycle = ? and bank_reference = 'NOREF0001'", (day,))[0]
    assert line["recon_status"] == "unmatched"
    proc = home.run("match", "--payment", payment["payment_id"], "--bank-line", line["bank_line_id"],
                    "--reason", "bank confirmed by phone", "--by", "ann")
    match_id = proc.stdout.rsplit("id ", 1)[1].strip(" )\n")
    with home.warehouse() as wh:
        links = wh.fetchall("select rule_id from marts.fct_reconciliation_links where payment_id = ?",
                            (payment["payment_id"],))
        cleared = wh.fetchone("select status, resolution from marts.fct_exceptions "
                              "where exception_id = ? and pay_cycle = ?", (missing["exception_id"], day))
    assert links == [("MANUAL",)] and cleared == ("resolved", "auto_cleared")
    undo = home.run("match", "--undo", match_id, "--reason", "wrong beneficiary after all", "--by", "bob")
    assert "undid manual match" in undo.stdout
    again = home.run("match", "--undo", match_id, "--reason", "twice", "--by", "bob", check=False)
    assert again.returncode == 1 and "already undone by bob" in again.stderr
    with home.warehouse() as wh:
        links = wh.fetchall("select rule_id from marts.fct_reconciliation_links where payment_id = ?",
                            (payment["payment_id"],))
        reopened = wh.fetchone("select status from marts.fct_exceptions where exception_id = ? and pay_cycle = ?",
                               (missing["exception_id"], day))
        kept = wh.fetchone("select count(*) from ops.manual_matches where manual_match_id = ?", (match_id,))[0]
        audit = [r[0] for r in wh.fetchall("select action from ops.audit_log where action like 'manual_match%' "
                                           "order by seq")]
    assert links == [] and reopened == ("open",)
    assert kept == 1, "append-only: the match stays in the log, the undo is a new row"
    assert audit == ["manual_match", "manual_match_undo"]
