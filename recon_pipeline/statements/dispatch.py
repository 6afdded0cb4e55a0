"""Pick the parser from the bytes, run it, and turn every failure into one line.

The format is sniffed from content, never from the file name: banks name files ``.txt``,
``.dat`` or nothing at all. Whatever goes wrong inside a parser — including bugs of ours on
input nobody foresaw — reaches the caller as ``StatementParseError`` with a one-line reason,
so the file is quarantined with that reason instead of stopping the run with a traceback.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from recon_pipeline.statements import bai2, camt, csv_profiles, mt940, ofx
from recon_pipeline.statements.model import ParsedFile, StatementParseError

_SNIFF = 8192
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office document"),
)
_CAMT_RE = re.compile(rb"camt\.05([234])\.\d{3}\.\d{2}")
_CAMT_ELEMENTS = {
    b"BkToCstmrStmt": "camt.053",
    b"BkToCstmrAcctRpt": "camt.052",
    b"BkToCstmrDbtCdtNtfctn": "camt.054",
}
_MT_RE = re.compile(rb"(?m)(^|\{4:)\s*:20:")


def _utf16_to_utf8(data: bytes) -> bytes:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise StatementParseError("not a bank statement: invalid UTF-16 text") from None
    return data


def _looks_binary(sample: bytes) -> str | None:
    for magic, what in _MAGIC:
        if sample.startswith(magic):
            return f"not a bank statement: {what}"
    if b"\x00" in sample:
        return "not a bank statement: binary data (NUL bytes)"
    controls = sum(1 for b in sample if b < 0x20 and b not in (0x09, 0x0A, 0x0D, 0x0C, 0x01, 0x03, 0x1A))
    if sample and controls / len(sample) > 0.05:
        return "not a bank statement: binary data (control bytes)"
    return None


def detect_format(data: bytes, filename: str = "") -> str:
    """``camt.053.001.08`` (or ``camt.05x`` when the version is not visible), ``MT940``,
    ``MT942``, ``BAI2``, ``OFX`` or ``CSV``. Raises StatementParseError for empty or binary
    input. ``filename`` is accepted for symmetry but never decides the format."""
    if not data or not data.strip():
        raise StatementParseError("empty file")
    is_utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    text = _utf16_to_utf8(data[: _SNIFF * 4] if is_utf16 else data[:_SNIFF])
    head = text.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise StatementParseError("empty file")
    reason = None if is_utf16 else _looks_binary(data[:_SNIFF])
    if reason:
        raise StatementParseError(reason)
    upper = head[:2048].upper()
    if upper.startswith(b"OFXHEADER") or b"<?OFX" in upper or b"<OFX>" in upper:
        return "OFX"
    if head.startswith(b"<"):
        match = _CAMT_RE.search(head)
        if match:
            return match.group(0).decode()
        for element, family in _CAMT_ELEMENTS.items():
            if element in head:
                return family
        return "XML"
    if head.startswith(b"01,"):
        return "BAI2"
    if _MT_RE.search(text.replace(b"\x01", b"\n")):
        return mt940.detect_kind(mt940._clean(mt940.decode(text)))
    return "CSV"


def parse_statement(
    data: bytes,
    filename: str = "",
    csv_profile: str | None = None,
    csv_profiles: Mapping[str, Mapping] | None = None,
) -> ParsedFile:
    """Parse one statement file. ``csv_profile`` names the profile for CSV input (user
    profiles from ``csv_profiles`` first, then the built-ins); without it the profile is
    chosen by header signature, falling back to ``generic``."""
    fmt = detect_format(data, filename)
    try:
        if fmt == "OFX":
            parsed = ofx.parse_ofx(data)
        elif fmt.startswith("camt") or fmt == "XML":
            parsed = camt.parse_camt(data)
        elif fmt == "BAI2":
            parsed = bai2.parse_bai2(data)
        elif fmt in ("MT940", "MT942"):
            parsed = mt940.parse_mt940(_utf16_to_utf8(data), kind=fmt)
        else:
            parsed = _parse_csv(_utf16_to_utf8(data), csv_profile, csv_profiles)
    except StatementParseError:
        raise
    except RecursionError:
        raise StatementParseError(f"{fmt}: input nests too deeply to parse") from None
    except MemoryError:
        raise StatementParseError(f"{fmt}: input too large to parse") from None
    except Exception as exc:  # noqa: BLE001 - the whole point: never a traceback for a bad file
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise StatementParseError(
            f"{fmt}: could not be parsed ({type(exc).__name__}{': ' + detail if detail else ''})"
        ) from exc
    if not parsed.statements:
        raise StatementParseError(f"{parsed.format}: no statement in the file")
    return parsed


def _parse_csv(data: bytes, profile_name: str | None, user_profiles: Mapping[str, Mapping] | None) -> ParsedFile:
    profiles = csv_profiles.all_profiles(user_profiles)
    if profile_name is None:
        profile_name = csv_profiles.choose_profile(data, user_profiles)
    if profile_name not in profiles:
        known = ", ".join(sorted(profiles))
        raise StatementParseError(f"CSV: unknown profile {profile_name!r} (known: {known})")
    return csv_profiles.parse_csv(data, profile_name, profiles[profile_name])
