"""Hostile or broken input is quarantined with a one-line reason, in bounded time and memory
(contract §5). Memory is the growth of peak RSS while parsing, measured in a fresh process (the
test process's own peak is already raised by earlier tests, so a bound there could not fail);
time by pytest-timeout."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from recon_pipeline.statements import StatementParseError, parse_statement

MAX_RSS_GROWTH_MB = 200
CAMT_HEAD = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
""" + CAMT_HEAD + b"<Stmt><Id>&lol9;</Id></Stmt></BkToCstmrStmt></Document>"

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
""" + CAMT_HEAD + b"<Stmt><Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>"


# Runs in a fresh interpreter: imports first (their memory is the baseline), then one parse.
_PARSE_IN_FRESH_PROCESS = """
import json, resource, sys
from recon_pipeline.statements import StatementParseError, parse_statement
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    parse_statement(data, "hostile.bin")
    reason = None
except StatementParseError as exc:
    reason = str(exc)
growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024   # kB on Linux
print(json.dumps({"reason": reason, "growth_mb": growth_mb}))
"""


def _parse_in_fresh_process(data: bytes, tmp_dir: Path) -> dict:
    path = tmp_dir / "hostile.bin"
    path.write_bytes(data)
    proc = subprocess.run([sys.executable, "-c", _PARSE_IN_FRESH_PROCESS, str(path)],
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _sample(corpus, rel: str) -> bytes:
    path = Path(corpus.root()) / rel
    assert path.is_file(), f"corpus sample {path} missing"
    return path.read_bytes()


def _assert_quarantined(data: bytes, *expected_words: str) -> str:
    with pytest.raises(StatementParseError) as caught:
        parse_statement(data, "hostile.bin")
    reason = str(caught.value)
    assert reason and "\n" not in reason and "Traceback" not in reason
    for word in expected_words:
        assert word.lower() in reason.lower(), reason
    with tempfile.TemporaryDirectory() as tmp:
        fresh = _parse_in_fresh_process(data, Path(tmp))
    assert fresh["reason"] == reason
    assert fresh["growth_mb"] < MAX_RSS_GROWTH_MB, f"parsing grew peak memory by {fresh['growth_mb']:.0f} MB"
    return reason


@pytest.mark.timeout(30)
def test_xml_entity_bomb_is_rejected_before_expansion():
    _assert_quarantined(BILLION_LAUGHS, "DOCTYPE")


@pytest.mark.timeout(30)
def test_external_entity_is_never_resolved():
    reason = _assert_quarantined(XXE, "ENTITY")
    assert "root:" not in reason  # nothing from /etc/passwd leaks into the reason


@pytest.mark.timeout(30)
def test_binary_garbage_is_not_a_bank_statement():
    # Seeded, and not starting with a byte-order mark (os.urandom once began with FF FE and
    # was reported, rightly, as "invalid UTF-16 text").
    _assert_quarantined(b"\x01\x02" + random.Random(7).randbytes(64 * 1024) + b"\x00", "binary")


@pytest.mark.timeout(30)
def test_zero_filled_file_is_binary_data():
    _assert_quarantined(b"\x00" * (1 << 20), "binary data")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("data", [b"", b" \r\n\t\n"], ids=["zero-bytes", "whitespace"])
def test_empty_file_says_empty(data):
    _assert_quarantined(data, "empty file")


@pytest.mark.timeout(30)
def test_camt_cut_in_the_middle_is_reported_as_truncated(corpus):
    camt = _sample(corpus, "camt053/oca_test-camt053.xml")
    _assert_quarantined(camt[: len(camt) // 2], "camt.053", "truncated")


@pytest.mark.timeout(30)
def test_mt940_cut_inside_a_transaction_line_names_the_line(corpus):
    mt = _sample(corpus, "mt940/wolph_jejik_abnamro.sta")
    cut = mt.index(b":61:1105210523D11") + 12
    _assert_quarantined(mt[:cut], "MT940", ":61:")


@pytest.mark.timeout(30)
def test_bai2_without_trailers_is_treated_as_truncated(corpus):
    bai = _sample(corpus, "bai2/moj_svb_usd.bai2")
    _assert_quarantined(bai[: bai.index(b"49,")], "BAI2", "truncated")


@pytest.mark.timeout(60)
def test_huge_single_line_garbage_costs_bounded_time_and_memory():
    _assert_quarantined(b"x;" * 10_000_000, "line break")


@pytest.mark.timeout(60)
def test_huge_printable_noise_with_line_breaks_is_rejected_as_not_a_statement():
    line = b"lorem ipsum dolor sit amet;consectetur;adipiscing elit\n"
    _assert_quarantined(line * (20_000_000 // len(line)), "no header row")


@pytest.mark.timeout(30)
def test_deeply_nested_xml_is_rejected():
    nested = CAMT_HEAD + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</BkToCstmrStmt></Document>"
    _assert_quarantined(nested, "camt.053")


@pytest.mark.timeout(30)
def test_xml_that_is_not_camt_says_so():
    _assert_quarantined(b"<?xml version='1.0'?><invoice><total>1</total></invoice>", "not an ISO 20022")


@pytest.mark.timeout(30)
def test_compressed_upload_is_named_as_such():
    _assert_quarantined(b"\x1f\x8b\x08\x00" + os.urandom(1000), "gzip")
