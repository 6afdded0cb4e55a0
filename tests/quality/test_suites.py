"""The suite files, the ISO 4217 data and the small helpers the derived columns rest on."""
from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest

from recon_pipeline.events.model import EVENT_TYPES
from recon_pipeline.quality import (
    BLOCKING,
    EXPECTATIONS_DIR,
    INPUT_SUITES,
    MART_SUITES,
    SuiteError,
    amount_scale,
    amount_text,
    iban_checksum_ok,
    iban_shaped,
    input_check_definitions,
    iso4217_minor_units,
    load_suite,
    mart_check_definitions,
    validate_frame,
)
from recon_pipeline.quality.frames import EVENT_COLUMNS, events_frame
from recon_pipeline.quality.suites import suite_parameters
from tests.quality.conftest import LAST

ALL_SUITES = INPUT_SUITES + MART_SUITES


@pytest.mark.parametrize("name", ALL_SUITES)
def test_every_suite_file_is_declarative_and_complete(name):
    doc = json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    suite = load_suite(name)
    assert suite.dataset == doc["dataset"] and len(suite.expectations) == len(doc["expectations"])
    for exp in doc["expectations"]:
        assert exp["meta"]["severity"] in ("blocking", "warning")
        assert exp["meta"]["description"].strip()


def test_check_names_are_unique_across_the_gate_and_the_marts():
    names = [d.check_name for d in input_check_definitions() + mart_check_definitions()]
    assert len(names) == len(set(names))
    assert all(d.severity == "warning" for d in mart_check_definitions())


@pytest.mark.parametrize("name", ALL_SUITES)
def test_every_expectation_builds_in_gx_and_passes_on_an_empty_cycle(name):
    suite = load_suite(name)
    columns = sorted({suite.key_column, *suite.detail_columns(),
                      *(v for e in suite.expectations for k, v in e["kwargs"].items()
                        if k in ("column", "column_A", "column_B")),
                      *(c for e in suite.expectations for c in e["kwargs"].get("column_list", []))})
    results = validate_frame(suite, pd.DataFrame(columns=columns, dtype=object), suite_parameters())
    assert {r.check_name for r in results} == {c.check_name for c in suite.checks()}
    assert all(r.passed and r.error is None for r in results), [r.summary() for r in results if not r.passed]


def test_the_event_types_of_the_suite_are_the_contracts():
    suite = load_suite("raw_payment_events")
    exp = next(e for e in suite.expectations if e["meta"]["check"] == "events_event_type_known")
    assert tuple(exp["kwargs"]["value_set"]) == EVENT_TYPES


def test_iso4217_data_knows_the_minor_units_that_matter():
    units = iso4217_minor_units()
    assert units["EUR"] == 2 and units["USD"] == 2 and units["JPY"] == 0 and units["KRW"] == 0
    assert units["BHD"] == 3 and units["KWD"] == 3 and units["CLF"] == 4
    assert units["XAU"] is None
    assert "EUX" not in units and "XXX" not in units and "XTS" not in units


def test_a_malformed_suite_is_refused_with_its_reason(tmp_path):
    doc = json.loads((EXPECTATIONS_DIR / "raw_payment_events.json").read_text(encoding="utf-8"))
    doc["expectations"][0]["meta"]["severity"] = "fatal"
    (tmp_path / "raw_payment_events.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SuiteError, match="severity"):
        load_suite("raw_payment_events", tmp_path)


def test_an_expectation_gx_cannot_build_fails_the_check_closed(tmp_path):
    doc = json.loads((EXPECTATIONS_DIR / "staged_bank_lines.json").read_text(encoding="utf-8"))
    doc["expectations"][0]["type"] = "expect_compound_columns_to_be_unique_typo"
    (tmp_path / "staged_bank_lines.json").write_text(json.dumps(doc), encoding="utf-8")
    suite = load_suite("staged_bank_lines", tmp_path)
    frame = pd.DataFrame(columns=["dq_key", "account_iban", "booking_date_text", "bank_reference"], dtype=object)
    [result] = validate_frame(suite, frame, {})
    assert not result.passed and "typo" in (result.error or "")


def test_required_fields_and_event_types_are_checked_even_if_a_loader_let_them_through(loaded_home):
    """The loader quarantines such events today; the gate must not rely on that."""
    with loaded_home.warehouse(read_only=True) as wh:
        frame = events_frame(wh, LAST.isoformat(), loaded_home.settings())
    assert list(frame.columns) == list(EVENT_COLUMNS) and len(frame) > 2
    frame.loc[0, "payment_id"] = None
    frame.loc[1, "event_type"] = "payment.teleported"
    broken = {frame.loc[0, "dq_key"], frame.loc[1, "dq_key"]}
    results = {r.check_name: r for r in validate_frame(load_suite("raw_payment_events"), frame, suite_parameters())}
    required = results["events_required_fields"]
    assert not required.passed and required.severity == BLOCKING
    assert required.failing_keys == [frame.loc[0, "dq_key"]]
    assert results["events_event_type_known"].failing_keys == [frame.loc[1, "dq_key"]]
    assert {k for r in results.values() for k in r.failing_keys} == broken


# ----------------------------------------------------------------------------- helpers
@pytest.mark.parametrize("value, expected", [
    ("DE89370400440532013000", True),
    ("de89 3704 0044 0532 0130 00", True),
    ("GB82WEST12345698765432", True),
    ("DE88370400440532013000", False),          # check digits off by one
    ("GB82WEST12345698765433", False),
])
def test_iban_mod97(value, expected):
    assert iban_shaped(value)
    assert iban_checksum_ok(value) is expected


@pytest.mark.parametrize("value", ["123456789", "0012345678/EUR", "", None, "DE12"])
def test_account_ids_that_are_not_iban_shaped_are_not_judged_as_ibans(value):
    assert not iban_shaped(value)
    assert iban_checksum_ok(value) is None


@pytest.mark.parametrize("value, text, scale", [
    (Decimal("10.12300"), "10.123", 3),
    (Decimal("100.00000"), "100", 0),
    (Decimal("0.50"), "0.5", 1),
    (Decimal("-45000.10"), "-45000.1", 1),
    (Decimal("0E-5"), "0", 0),
    (7, "7", 0),
])
def test_amount_text_and_scale_come_from_the_decimal_itself(value, text, scale):
    assert amount_text(value) == text
    assert amount_scale(value) == scale


def test_a_float_amount_is_never_accepted_as_money():
    assert amount_text(10.5).startswith("float:")
    assert amount_scale(10.5) is None
