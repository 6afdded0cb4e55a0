"""Helpers for the hostile-input tests: small hand-written statements and a DuckDB warehouse file.

The statements are written out in full (not generated) so each test shows exactly which
bytes a bank sent; the warehouse is a real DuckDB file in the test's temporary folder.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from recon_pipeline.landing import LandingZone
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import open_warehouse

IBAN = "DE89370400440532013000"


def camt053(entries: list[tuple[str, str, str, str | None]], *, msg_id: str = "MSG-1", opening: str = "1000.00",
            closing: str | None = None, kind: str = "053", booking_date: str = "2026-11-10") -> bytes:
    """A camt.053 (or camt.052 with ``kind='052'``) for IBAN; entries are (amount, CRDT/DBIT, ref, e2e)."""
    from decimal import Decimal

    if closing is None:
        total = Decimal(opening)
        for amount, ind, _, _ in entries:
            total += Decimal(amount) if ind == "CRDT" else -Decimal(amount)
        closing = str(total)
    root, stmt = ("BkToCstmrStmt", "Stmt") if kind == "053" else ("BkToCstmrAcctRpt", "Rpt")
    close_code = "CLBD" if kind == "053" else "ITBD"
    ntries = "".join(
        f"<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
        f"<BookgDt><Dt>{booking_date}</Dt></BookgDt><ValDt><Dt>{booking_date}</Dt></ValDt>"
        + (f"<AcctSvcrRef>{ref}</AcctSvcrRef>" if ref else "")
        + (f"<NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs></TxDtls></NtryDtls>" if e2e else "")
        + "</Ntry>"
        for amount, ind, ref, e2e in entries)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.08"><{root}>'
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>{booking_date}T18:00:00+00:00</CreDtTm></GrpHdr>"
        f"<{stmt}><Id>{msg_id}-S</Id><Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{opening}</Amt>"
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{booking_date}</Dt></Dt></Bal>"
        f"<Bal><Tp><CdOrPrtry><Cd>{close_code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{closing}</Amt>"
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{booking_date}</Dt></Dt></Bal>"
        f"{ntries}</{stmt}></{root}></Document>\n"
    ).encode()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh RECON_HOME with its settings, landing zone and DuckDB warehouse file."""
    monkeypatch.setenv("RECON_HOME", str(tmp_path / "home"))
    settings = load_settings()
    settings.ensure_dirs()
    return settings


@pytest.fixture
def landing(home) -> LandingZone:
    return LandingZone(home.landing_dir)


@pytest.fixture
def wh(home):
    with open_warehouse(home) as conn:
        yield conn


def land(landing: LandingZone, kind: str, name: str, data: bytes):
    return landing.land_stream(kind, io.BytesIO(data), name, "test")


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
