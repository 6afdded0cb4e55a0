"""A statement too big for one message comes in pages, and the pages prove the balance together.

Banks split a big camt.053 into pages (GrpHdr/MsgPgntn: page number, last-page flag), each a file
of its own whose interim balances (ITBD) chain: page 1 opens the day and closes where page 2
opens. Every page is dated the same day, so which page opens and which closes the cycle can only
come from the chain. Before, the close summary picked them by file hash: "balance proof BROKEN"
on every paginated account-day, and the gate warned that page 2 did not continue the day before.
"""
from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

from lxml import etree

from recon_pipeline.scenario.generator import generate_scenario
from tests.e2e.conftest import deliver, make_home

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _signed(element) -> Decimal:
    amount = Decimal(element.find(_q("Amt")).text)
    return amount if element.find(_q("CdtDbtInd")).text == "CRDT" else -amount


def _set_balance(balance, code: str, amount: Decimal) -> None:
    balance.find(f".//{_q('Cd')}").text = code
    balance.find(_q("Amt")).text = f"{abs(amount):.2f}"
    balance.find(_q("CdtDbtInd")).text = "CRDT" if amount >= 0 else "DBIT"


def paginate(camt: bytes) -> list[bytes]:
    """The statement as two pages, the way a bank sends one too big for a message."""
    root = etree.fromstring(camt)
    entries = root.find(f".//{_q('Stmt')}").findall(_q("Ntry"))
    half = len(entries) // 2
    opening = next(b for b in root.iter(_q("Bal")) if b.find(f".//{_q('Cd')}").text in ("OPBD", "PRCD"))
    interim = _signed(opening) + sum((_signed(e) for e in entries[:half]), Decimal("0"))
    pages = []
    for number, keep in ((1, range(0, half)), (2, range(half, len(entries)))):
        page = etree.fromstring(camt)
        stmt = page.find(f".//{_q('Stmt')}")
        for index, entry in enumerate(stmt.findall(_q("Ntry"))):
            if index not in keep:
                stmt.remove(entry)
        for summary in stmt.findall(_q("TxsSummry")):  # the day's totals, not a page's
            stmt.remove(summary)
        for balance in stmt.findall(_q("Bal")):
            code = balance.find(f".//{_q('Cd')}").text
            if (number == 1 and code == "CLBD") or (number == 2 and code in ("OPBD", "PRCD")):
                _set_balance(balance, "ITBD", interim)
        pagination = page.find(f".//{_q('MsgPgntn')}")
        pagination.find(_q("PgNb")).text = str(number)
        pagination.find(_q("LastPgInd")).text = "true" if number == 2 else "false"
        page.find(f".//{_q('MsgId')}").text += f"-P{number}"
        pages.append(etree.tostring(page, xml_declaration=True, encoding="UTF-8"))
    return pages


def test_a_statement_in_two_pages_proves_the_balance_and_continues_the_day_before(tmp_path):
    scenario = generate_scenario(tmp_path / "scenario", start=dt.date(2026, 11, 2), days=2,
                                 payments_per_day=150, seed=3)
    statements = tmp_path / "scenario" / "statements"
    paginated = 0
    for path in sorted(statements.glob("*.xml")):
        for number, page in enumerate(paginate(path.read_bytes()), start=1):
            (statements / f"{path.stem}_page{number}.xml").write_bytes(page)
        path.unlink()
        paginated += 1
    assert paginated == 2  # the camt account, both days
    home = make_home(tmp_path)
    deliver(tmp_path / "scenario", home)

    run = home.run("run", "--through", scenario.cycles[-1].isoformat())

    summaries = [line for line in run.stdout.splitlines() if line.startswith("cycle ")]
    assert len(summaries) == 2 and all("balance proof OK" in line for line in summaries), run.stdout[-2000:]
    import duckdb

    con = duckdb.connect(str(home.home / "warehouse.duckdb"), read_only=True)
    try:
        pages = con.execute("select pay_cycle, statement_count, opening_balance, closing_balance, statement_movements, "
                            "balance_proof_ok from marts.rpt_close_summary where statement_count = 2 "
                            "order by pay_cycle").fetchall()
        assert [p[1] for p in pages] == [2, 2] and all(p[5] for p in pages)
        assert pages[1][2] == pages[0][3]  # day 2 opens where day 1's last page closed
        warnings = con.execute("select pay_cycle, check_name from dq.check_results where not passed").fetchall()
        assert warnings == []
    finally:
        con.close()
    shutil.rmtree(home.home / "dagster", ignore_errors=True)
