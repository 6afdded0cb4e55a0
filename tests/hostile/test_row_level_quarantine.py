"""One value no parser expects is quarantined alone; the rest of its file, and every file
after it, still loads into the DuckDB warehouse (issue #11 item 1)."""
from __future__ import annotations

import gzip
import json
from decimal import Decimal

from recon_pipeline.warehouse.load_events import load_event_files
from recon_pipeline.warehouse.load_statements import load_statement_files
from tests.hostile.conftest import IBAN, camt053, land

MT940 = (f":20:STMT-1\r\n:25:{IBAN}\r\n:28C:1/1\r\n:60F:C261110EUR1000,00\r\n"
         ":61:2611101110C161,400001NTRFREF1//BANKREF1\r\n:86:six decimals\r\n"
         ":61:2611101110C20,00NTRFREF2//BANKREF2\r\n:86:fine\r\n"
         ":62F:C261110EUR1181,400001\r\n-").encode()


def _event(event_id: str, amount: str, occurred_at: str = "2026-11-10T10:00:00Z") -> str:
    return json.dumps({"event_id": event_id, "event_type": "payment.sent", "occurred_at": occurred_at,
                       "payment_id": f"PAY-{event_id}", "amount": amount, "currency": "EUR",
                       "direction": "outgoing", "account_iban": IBAN})


def test_a_six_decimal_camt_amount_quarantines_its_line_and_the_rest_of_the_file_loads(wh, landing):
    land(landing, "statements", "bad.xml", camt053([("1159.320001", "CRDT", "R1", None),
                                                    ("1E+20", "CRDT", "R2", None),
                                                    ("10.00", "DBIT", "R3", None)], closing="2149.32"))
    land(landing, "statements", "good.xml", camt053([("5.00", "CRDT", "G1", None)], msg_id="MSG-2"))

    result = load_statement_files(wh, landing)

    assert result.files_loaded == 2 and result.files_quarantined == 0
    assert result.lines_quarantined == 2
    bad = wh.fetchall("select original_name, position, reason, raw_value from raw.quarantine_statement_lines "
                      "order by position")
    assert [(n, p) for n, p, _, _ in bad] == [("bad.xml", 0), ("bad.xml", 1)]
    assert "1159.320001" in bad[0][2] and "more than 5 decimals" in bad[0][2] and "\n" not in bad[0][2]
    assert "beyond decimal(20,5)" in bad[1][2]
    assert b"1159.320001" in bytes(bad[0][3])                       # the line's own values are kept
    loaded = wh.fetchall("select source_file, position, amount from raw.statement_lines order by source_file")
    assert loaded == [("bad.xml", 2, Decimal("-10.00000")), ("good.xml", 0, Decimal("5.00000"))]
    # The statement says why its proof no longer adds up, instead of claiming a balance.
    codes = {r[0] for r in wh.fetchall("select code from raw.statement_findings")}
    assert "line_quarantined" in codes and "balance_mismatch" in codes


def test_a_six_decimal_mt940_amount_and_balance_are_quarantined_not_fatal(wh, landing):
    land(landing, "statements", "bank.sta", MT940)

    result = load_statement_files(wh, landing)

    assert result.files_loaded == 1 and result.lines_quarantined == 1
    (reason,) = wh.fetchone("select reason from raw.quarantine_statement_lines")
    assert "161.400001" in reason
    assert wh.fetchall("select bank_reference, amount from raw.statement_lines") == [("BANKREF2", Decimal("20.00000"))]
    closing = wh.fetchone("select closing_balance from raw.statements")[0]
    assert closing is None
    messages = [r[0] for r in wh.fetchall("select message from raw.statement_findings where code = 'value_out_of_range'")]
    assert any("closing balance 1181.400001" in m for m in messages)


def test_a_file_is_quarantined_once_and_never_retried(wh, landing):
    land(landing, "statements", "garbage.xml", b"<Document><BkToCstmrStmt><Stmt>" * 3)
    first = load_statement_files(wh, landing)
    again = load_statement_files(wh, landing)
    assert first.files_quarantined == 1 and first.quarantined[0][0] == "garbage.xml"
    assert again.files_quarantined == 0 and again.files_already_loaded == 1


def test_an_over_size_statement_is_quarantined_unread_with_its_name(wh, landing):
    land(landing, "statements", "huge.xml", camt053([("1.00", "CRDT", "X", None)]) + b" " * 5000)
    result = load_statement_files(wh, landing, max_bytes=4096)
    assert result.files_quarantined == 1
    name, reason, size, kept = wh.fetchone("select original_name, reason, size_bytes, octet_length(raw_bytes) "
                                           "from raw.quarantine_statement_files")
    assert name == "huge.xml" and "over the 4096-byte cap" in reason and size > 4096 and kept <= size


def test_bad_event_values_are_quarantined_alone_and_the_file_loads(wh, landing):
    deep = "[" * 100_000 + "]" * 100_000
    lines = [_event("e-1", "10.00"), _event("e-2", "1159.320001"), deep, _event("e-3", "1000000000000000.00"),
             _event("e-4", "12.50", occurred_at="2999-01-01T00:00:00Z"), _event("e-5", "7.00")]
    land(landing, "events", "events.jsonl.gz", gzip.compress("\n".join(lines).encode()))

    result = load_event_files(wh, landing)

    assert result.events_loaded == 2 and result.messages_quarantined == 4
    assert [r[0] for r in wh.fetchall("select event_id from raw.payment_events order by event_id")] == ["e-1", "e-5"]
    reasons = dict(wh.fetchall("select message_offset, reason from raw.quarantine_events"))
    assert "more than 5 decimals" in reasons[2]
    assert "nested too deeply" in reasons[3]
    assert "beyond decimal(20,5)" in reasons[4]
    assert "beyond tomorrow" in reasons[5]
    assert all("\n" not in r for r in reasons.values())


def test_a_statement_written_in_several_batches_loads_every_line_once_or_not_at_all(wh, landing, monkeypatch):
    """The loader writes a big statement in batches inside one transaction (bounded memory):
    every line lands once with the ids a one-batch load gives (identical bookings counted in
    file order), and a row the warehouse refuses in a later batch leaves none of the file's
    rows behind, only the quarantined file."""
    import recon_pipeline.warehouse.load_statements as loader

    entries = [(f"{n}.00", "CRDT", f"R{n}", None) for n in range(1, 8)]
    entries += [("3.00", "CRDT", None, None), ("3.00", "CRDT", None, None)]  # identical, no reference
    land(landing, "statements", "one_batch.xml", camt053(entries))
    load_statement_files(wh, landing)
    one_batch = wh.fetchall("select position, bank_line_id from raw.statement_lines order by position")
    assert len(one_batch) == 9 and len({i for _, i in one_batch}) == 9
    wh.execute("delete from raw.statement_lines")
    wh.execute("delete from raw.statements")
    wh.execute("delete from raw.statement_files")

    monkeypatch.setattr(loader, "_BATCH_LINES", 2)
    batches: list[int] = []
    real_insert = wh.bulk_insert

    def counting_insert(table, columns, rows):
        if table == "raw.statement_lines":
            batches.append(len(rows))
        return real_insert(table, columns, rows)

    monkeypatch.setattr(wh, "bulk_insert", counting_insert)
    result = load_statement_files(wh, landing)
    assert result.lines_loaded == 9 and batches == [2, 2, 2, 2, 1]
    assert wh.fetchall("select position, bank_line_id from raw.statement_lines order by position") == one_batch

    def refusing_insert(table, columns, rows):
        if table == "raw.statement_lines" and len(batches) >= 2:
            raise RuntimeError("Conversion Error: the warehouse refused a row")
        batches.append(len(rows))
        return real_insert(table, columns, rows)

    batches.clear()
    monkeypatch.setattr(wh, "bulk_insert", refusing_insert)
    land(landing, "statements", "refused.xml", camt053(entries, msg_id="MSG-REFUSED"))
    refused = load_statement_files(wh, landing)
    assert refused.files_quarantined == 1 and batches == [2, 2]  # two batches written, then refused
    assert "could not be written to the warehouse" in refused.quarantined[0][1]
    assert wh.fetchone("select count(*) from raw.statement_lines where source_file = 'refused.xml'")[0] == 0
    assert wh.fetchone("select count(*) from raw.statements")[0] == 1  # only the first file's
