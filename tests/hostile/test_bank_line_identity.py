"""A booking reported again is one bank line, and its movement counts once (CONTRACT §1.2):
a statement re-sent under a new message id, and an intraday camt.052 followed by the day's
camt.053, through `recon run` on a DuckDB warehouse (issue #11 item 6)."""
from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from recon_pipeline.scenario.generator import generate_scenario
from tests.e2e.conftest import deliver, make_home

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def _resent(camt: bytes) -> bytes:
    """The same statement under a new message id and statement id (same entries)."""
    return re.sub(rb"<MsgId>([^<]+)</MsgId>", rb"<MsgId>RESENT-\1</MsgId>", camt, count=1) \
        .replace(b"<ElctrncSeqNb>", b"<ElctrncSeqNb>9") .replace(b"-2026", b"-R2026", 1)


def _intraday(camt: bytes) -> bytes:
    """The day's bookings as an intraday camt.052: no transaction details yet (no end-to-end
    ids), an interim closing balance, another message id."""
    ET.register_namespace("", NS)
    root = ET.fromstring(camt)
    for entry in root.iter(f"{{{NS}}}Ntry"):
        for details in entry.findall(f"{{{NS}}}NtryDtls"):
            entry.remove(details)
    for summary in root.iter(f"{{{NS}}}Stmt"):
        for totals in summary.findall(f"{{{NS}}}TxsSummry"):
            summary.remove(totals)
    text = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    text = text.replace(b"camt.053.001.08", b"camt.052.001.08").replace(b"BkToCstmrStmt", b"BkToCstmrAcctRpt")
    text = re.sub(rb"<(/?)Stmt>", rb"<\1Rpt>", text).replace(b"<Cd>CLBD</Cd>", b"<Cd>ITBD</Cd>")
    return re.sub(rb"<MsgId>([^<]+)</MsgId>", rb"<MsgId>INTRADAY-\1</MsgId>", text, count=1)


def test_a_resent_statement_and_an_intraday_report_count_each_booking_once(tmp_path):
    day = dt.date(2026, 11, 10)
    generate_scenario(tmp_path / "scenario", start=day, days=1, payments_per_day=6, seed=11)
    home = make_home(tmp_path)
    deliver(tmp_path / "scenario", home)
    (camt_path,) = sorted(home.inbox_statements.glob("*.xml"))
    original = camt_path.read_bytes()
    (home.inbox_statements / "intraday_1400.xml").write_bytes(_intraday(original))
    (home.inbox_statements / "statement_resent.xml").write_bytes(_resent(original))

    proc = home.run("run", "--through", day.isoformat())

    assert "balance proof OK" in proc.stdout, proc.stdout
    with home.warehouse() as wh:
        deliveries = wh.fetchall("select count(*), count(distinct bank_line_id) from raw.statement_lines "
                                 "where source_file in (?, ?, ?)",
                                 (camt_path.name, "intraday_1400.xml", "statement_resent.xml"))[0]
        staged = wh.fetchall("select distinct source_file from staging.stg_bank_lines "
                             "where account_iban in (select account_iban from raw.statement_lines "
                             "where source_file = ?)", (camt_path.name,))
        summary = wh.fetch_dicts("select * from marts.rpt_close_summary where pay_cycle = ? and account_iban in "
                                 "(select account_iban from raw.statement_lines where source_file = ?)",
                                 (day, camt_path.name))
        # Two end-of-day deliveries: the lower sha256 is kept, whatever the arrival order.
        end_of_day = wh.fetchone("select original_name from raw.statement_files where original_name in (?, ?) "
                                 "order by source_sha256 limit 1", (camt_path.name, "statement_resent.xml"))[0]
        original_movements = wh.fetchone(
            "select s.movements from raw.statements as s join raw.statement_files as f "
            "on f.source_sha256 = s.source_sha256 where f.original_name = ?", (camt_path.name,))[0]
    lines = deliveries[1]
    assert deliveries[0] == 3 * lines                 # three reports of the same bookings, one id each
    assert staged == [(end_of_day,)]                  # an end-of-day statement, never the intraday report
    (row,) = summary
    assert row["statement_count"] == 1 and row["bank_lines_count"] == lines
    assert row["statement_movements"] == original_movements != Decimal(0)
    assert row["balance_proof_ok"] is True
