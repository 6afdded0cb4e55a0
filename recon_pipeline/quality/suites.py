"""Great Expectations suites, kept as JSON in ``expectations/``, run against pandas DataFrames.

Why this shape: GX 1.x is used directly (dagster-ge only supports GX < 1.0), against
DataFrames read from the warehouse (GX through duckdb-engine has open metric bugs), in an
ephemeral context built per run, so nothing GX-specific lives on disk except the suites.

Each expectation's ``meta`` names the check it belongs to (``check``), its ``severity``
(``blocking`` | ``warning``) and a ``description``; several expectations may make up one
check (e.g. "required fields" is one not-null expectation per field). A check is what
Dagster shows and ``dq.check_results`` stores. Reading the suites does not import GX
(``import great_expectations`` takes seconds), so the Dagster definitions can declare the
checks without paying for it; only running a suite does.
"""
from __future__ import annotations

import copy
import gc
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import iso4217

from recon_pipeline.one_line import exception_line, one_line
from recon_pipeline.quality.results import SEVERITIES, CheckDefinition, CheckResult

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
_CHECK_NAME = re.compile(r"^[a-z][a-z0-9_]{2,80}$")


class SuiteError(ValueError):
    """A suite file is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Suite:
    """One ``expectations/<name>.json`` file, validated, not yet bound to GX."""

    name: str
    dataset: str
    description: str
    key_column: str          # DataFrame column that identifies a row in the evidence
    key_name: str            # what that key is, for people: event_id, bank_line_id, statement...
    expectations: tuple[Mapping[str, Any], ...]
    path: Path

    def checks(self) -> list[CheckDefinition]:
        """The checks this suite defines, in file order (first expectation of each check)."""
        seen: dict[str, CheckDefinition] = {}
        for exp in self.expectations:
            meta = exp["meta"]
            if meta["check"] not in seen:
                seen[meta["check"]] = CheckDefinition(
                    check_name=meta["check"], dataset=self.dataset, severity=meta["severity"],
                    description=meta["description"], source=f"gx:{self.path.name}")
        return list(seen.values())

    def detail_columns(self) -> list[str]:
        cols = []
        for exp in self.expectations:
            col = exp["meta"].get("detail_column")
            if col and col not in cols:
                cols.append(col)
        return cols


def expectations_dir() -> Path:
    """The repository's ``expectations/`` folder (tests pass another ``directory`` explicitly)."""
    return EXPECTATIONS_DIR


def load_suite(name: str, directory: Path | None = None) -> Suite:
    """Read and validate ``<directory>/<name>.json``; raise ``SuiteError`` naming the problem."""
    path = (directory or expectations_dir()) / f"{name}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SuiteError(f"cannot read suite {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(doc, dict):
        raise SuiteError(f"{path.name}: the top level must be an object")
    for field_name in ("name", "dataset", "key_column", "key_name"):
        if not isinstance(doc.get(field_name), str) or not doc[field_name]:
            raise SuiteError(f"{path.name}: '{field_name}' must be a non-empty string")
    expectations = doc.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise SuiteError(f"{path.name}: 'expectations' must be a non-empty list")
    severity_of: dict[str, str] = {}
    for i, exp in enumerate(expectations):
        where = f"{path.name}: expectation {i + 1}"
        if not isinstance(exp, dict) or not isinstance(exp.get("type"), str) \
                or not isinstance(exp.get("kwargs"), dict):
            raise SuiteError(f"{where}: needs a 'type' string and a 'kwargs' object")
        meta = exp.get("meta")
        if not isinstance(meta, dict):
            raise SuiteError(f"{where} ({exp['type']}): needs meta {{check, severity, description}}")
        check_name = meta.get("check")
        if not isinstance(check_name, str) or not _CHECK_NAME.match(check_name):
            raise SuiteError(f"{where}: meta.check must be a snake_case name, got {check_name!r}")
        if meta.get("severity") not in SEVERITIES:
            raise SuiteError(f"{where}: meta.severity must be one of {', '.join(SEVERITIES)}, "
                             f"got {meta.get('severity')!r}")
        if not isinstance(meta.get("description"), str) or not meta["description"].strip():
            raise SuiteError(f"{where}: meta.description must say what the expectation protects")
        previous = severity_of.setdefault(check_name, meta["severity"])
        if previous != meta["severity"]:
            raise SuiteError(f"{where}: check {check_name} mixes severities {previous} and {meta['severity']}")
    return Suite(name=doc["name"], dataset=doc["dataset"], description=str(doc.get("description", "")),
                 key_column=doc["key_column"], key_name=doc["key_name"],
                 expectations=tuple(expectations), path=path)


# ISO 4217 lists these codes, but no payment is ever made in them: XTS is reserved for testing
# and XXX means "no currency". An amount in either is a defect, so the gate rejects them.
NOT_PAYMENT_CURRENCIES = frozenset({"XTS", "XXX"})


@lru_cache(maxsize=1)
def _iso4217_active() -> dict[str, int | None]:
    return {c.code: c.exponent for c in iso4217.Currency if c.code not in NOT_PAYMENT_CURRENCIES}


def iso4217_minor_units() -> dict[str, int | None]:
    """Active ISO 4217 codes → minor units (None where ISO says N.A., e.g. XAU).

    From the maintained ``iso4217`` package (ISO's own list, updated with each amendment),
    not from a table kept by hand.
    """
    return dict(_iso4217_active())


def suite_parameters() -> dict[str, Any]:
    """Values the suites reference as ``{"$PARAMETER": name}``: data, not code."""
    return {"iso4217_codes": sorted(iso4217_minor_units())}


# ----------------------------------------------------------------------------- running
# A validated frame this large is collected at once: GX's ephemeral context leaves reference
# cycles that hold the frame until Python's cyclic collector happens to run, and chunk after
# chunk of a bank's day piled up to 8 GB (measured: +15 MB per 20,000-row frame, flat with it).
COLLECT_AFTER_ROWS = 10_000


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every DataFrame under 1 GB (``HASH_THRESHOLD``) by hashing each row, and
    # does it twice per validation (the batch, then the validator's own copy of it): a quarter
    # of the input gate's time at 100,000 payments (py-spy), for a batch marker nothing of
    # ours reads. The threshold is GX's own switch for it: at 0 no frame is hashed.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return gx


def validate_frame(suite: Suite, frame: Any, parameters: Mapping[str, Any] | None = None) -> list[CheckResult]:
    """Validate ``frame`` (a pandas DataFrame) against ``suite``; one result per check.

    A check whose expectation could not be evaluated (GX raised) is reported as failed with
    the error: a gate that cannot look must not let the data through.
    """
    try:
        outcomes = _run_gx(suite, frame, parameters or {})
        if len(frame) >= COLLECT_AFTER_ROWS:
            gc.collect()
    except Exception as exc:  # noqa: BLE001 - every check of the suite fails closed, with the reason
        reason = exception_line(exc)
        return [CheckResult(check_name=c.check_name, dataset=suite.dataset, severity=c.severity,
                            passed=False, failing_count=0, key_name=suite.key_name,
                            expectation=_describe_check(suite, c.check_name), description=c.description,
                            rows_checked=len(frame), error=f"great_expectations could not run: {reason}")
                for c in suite.checks()]
    return _collect(suite, frame, outcomes)


class ChunkedValidation:
    """One suite over a cycle validated chunk by chunk (frames.GATE_CHUNK_ROWS), its results
    merged as if validated at once: a check passes when it passed on every chunk, each failing
    key is counted once (a re-delivered event may sit in two chunks), rows checked add up."""

    def __init__(self, suite: Suite, parameters: Mapping[str, Any]):
        self.suite, self.parameters = suite, parameters
        self.results: list[CheckResult] = []
        self.rows = 0

    def validate(self, frame: Any) -> None:
        later = validate_frame(self.suite, frame, self.parameters)
        self.results = [_merged(a, b) for a, b in zip(self.results, later, strict=True)] if self.results else later
        self.rows += len(frame)


def _merged(a: CheckResult, b: CheckResult) -> CheckResult:
    known_keys, known_details = set(a.failing_keys), set(a.details)
    keys = a.failing_keys + [k for k in b.failing_keys if k not in known_keys]
    unkeyed = sum(r.failing_count - len(r.failing_keys) for r in (a, b) if not r.passed)
    passed = a.passed and b.passed
    errors = list(dict.fromkeys(e for e in (a.error, b.error) if e))
    return replace(a, passed=passed, failing_keys=keys, failing_count=0 if passed else len(keys) + unkeyed,
                   details=a.details + [d for d in b.details if d not in known_details],
                   rows_checked=a.rows_checked + b.rows_checked, error="; ".join(errors) or None)


def _run_gx(suite: Suite, frame: Any, parameters: Mapping[str, Any]) -> list[Any]:
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas(name=f"recon_{suite.dataset}")
    asset = source.add_dataframe_asset(name=suite.dataset)
    batch_definition = asset.add_batch_definition_whole_dataframe("pay_cycle")
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    # GX logs and drops an expectation it cannot build (unknown type, bad kwargs) when handed
    # configurations; a suite that silently lost an expectation would pass what it should
    # fail, so each one is built here first and a bad one stops the run with its name.
    built = []
    for exp in suite.expectations:
        try:
            built.append(ExpectationConfiguration(**copy.deepcopy(dict(exp))).to_domain_obj())
        except Exception as exc:  # noqa: BLE001 - reported as a suite error naming the expectation
            raise SuiteError(f"{suite.path.name}: {exp['type']} ({exp['meta']['check']}) is not a valid "
                             f"expectation: {one_line(exc, 200)}") from None
    gx_suite = gx.ExpectationSuite(name=suite.name, expectations=built,
                                   meta={"dataset": suite.dataset, "source": suite.path.name})
    if len(gx_suite.expectations) != len(suite.expectations):
        raise SuiteError(f"{suite.path.name}: great_expectations dropped expectation(s) from the suite")
    gx_suite = context.suites.add(gx_suite)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    index_columns = [suite.key_column] + [c for c in suite.detail_columns() if c != suite.key_column]
    result = batch.validate(
        gx_suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": index_columns,
                       "return_unexpected_index_query": False},
        expectation_parameters=dict(parameters),
    )
    return list(result.results)


def _exception_text(outcome: Any) -> str | None:
    info = getattr(outcome, "exception_info", None) or {}
    candidates = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for item in candidates:
        if item.get("raised_exception"):
            return one_line(item.get("exception_message") or "unknown error")
    return None


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    try:
        import pandas as pd

        if value is pd.NaT or (not isinstance(value, (str, bytes, Decimal)) and pd.isna(value)):
            return "null"
    except (TypeError, ValueError):
        pass
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):           # numpy scalars
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def _key_text(value: Any, position: int) -> str:
    text = _fmt(value)
    text = text[1:-1] if text.startswith("'") and text.endswith("'") else text
    return text if text != "null" else f"row {position}"


def _describe_expectation(exp: Mapping[str, Any]) -> str:
    parts = []
    for name, value in exp["kwargs"].items():
        if isinstance(value, dict) and "$PARAMETER" in value:
            parts.append(f"{name}=${value['$PARAMETER']}")
        elif isinstance(value, list) and len(value) > 8:
            parts.append(f"{name}=[{len(value)} values]")
        else:
            parts.append(f"{name}={json.dumps(value, default=str)}")
    return f"{exp['type']}({', '.join(parts)})"


def _describe_check(suite: Suite, check_name: str) -> str:
    return "; ".join(_describe_expectation(e) for e in suite.expectations if e["meta"]["check"] == check_name)


def _collect(suite: Suite, frame: Any, outcomes: Sequence[Any]) -> list[CheckResult]:
    by_check: dict[str, list[Any]] = {}
    for outcome in outcomes:
        by_check.setdefault(outcome.expectation_config.meta["check"], []).append(outcome)
    results = []
    for definition in suite.checks():
        keys: list[str] = []
        details: list[str] = []
        errors: list[str] = []
        passed = True
        unkeyed_failures = 0
        for outcome in by_check.get(definition.check_name, []):
            error = _exception_text(outcome)
            if error:
                errors.append(f"{outcome.expectation_config.type}: {error}")
                passed = False
                continue
            if outcome.success:
                continue
            passed = False
            meta = outcome.expectation_config.meta
            detail_column = meta.get("detail_column")
            rows = (outcome.result or {}).get("unexpected_index_list") or []
            if not rows:
                observed = (outcome.result or {}).get("observed_value")
                unkeyed_failures += max(int((outcome.result or {}).get("unexpected_count") or 0), 1)
                details.append(f"{outcome.expectation_config.type}: observed {_fmt(observed)}")
            for position, row in enumerate(rows):
                row = dict(row) if isinstance(row, Mapping) else {suite.key_column: row}
                key = _key_text(row.get(suite.key_column), position)
                if key not in keys:
                    keys.append(key)
                if detail_column and row.get(detail_column) not in (None, ""):
                    detail = f"{key}: {_fmt(row[detail_column]).strip(chr(39))}"
                else:
                    shown = {c: v for c, v in row.items()
                             if c != suite.key_column and c not in suite.detail_columns()}
                    detail = f"{key}: " + ", ".join(f"{c}={_fmt(v)}" for c, v in shown.items())
                if detail not in details:
                    details.append(detail)
        if errors:
            passed = False
        results.append(CheckResult(
            check_name=definition.check_name, dataset=suite.dataset, severity=definition.severity,
            passed=passed, failing_count=len(keys) + unkeyed_failures if not passed else 0,
            failing_keys=keys, key_name=suite.key_name, details=details,
            expectation=_describe_check(suite, definition.check_name), description=definition.description,
            rows_checked=len(frame), error="; ".join(errors) or None))
    return results


def check_definitions(suite_names: Iterable[str], directory: Path | None = None) -> list[CheckDefinition]:
    """Every check the named suites define, in order (for declaring Dagster check specs)."""
    out: list[CheckDefinition] = []
    for name in suite_names:
        out.extend(load_suite(name, directory).checks())
    return out
