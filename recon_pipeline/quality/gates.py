"""The cycle gates: run the suites and the Python checks over one pay cycle, store the results.

``run_input_checks`` / ``check_cycle_inputs`` validate the raw inputs before dbt reconciles them
(frames.py builds the data, python_checks.py the cross-delivery checks); ``run_mart_checks`` /
``check_cycle_marts`` validate the marts afterwards (warnings only).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from recon_pipeline.cycles import parse_cycle
from recon_pipeline.holds import hold_blocked_items, releases, without_released
from recon_pipeline.one_line import exception_line
from recon_pipeline.quality import frames
from recon_pipeline.quality.frames import (
    distinct_events,
    events_frames,
    links_frames,
    staged_lines_frame,
    statement_history,
    statement_lines_frames,
    statements_frame,
)
from recon_pipeline.quality.python_checks import (
    PYTHON_INPUT_CHECKS,
    PYTHON_MART_CHECKS,
    bank_line_volume,
    booked_line_counts,
    event_id_conflicts,
    held_items_check,
    match_rate_drop,
    missing_statements,
)
from recon_pipeline.quality.results import (
    CheckDefinition,
    CheckResult,
    ensure_dq_schema,
    replace_check_results,
)
from recon_pipeline.quality.suites import (
    ChunkedValidation,
    Suite,
    check_definitions,
    iso4217_minor_units,
    load_suite,
    suite_parameters,
    validate_frame,
)
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import Warehouse
from recon_pipeline.warehouse.source_tables import ensure_source_tables

INPUT_SUITES = ("raw_payment_events", "raw_statement_lines", "staged_bank_lines", "raw_statements")
MART_SUITES = ("reconciliation_links",)


# ----------------------------------------------------------------------------- the cycle gates
@dataclass
class CycleReport:
    """Every check result of one run for one cycle, plus row counts for the asset metadata."""

    pay_cycle: str
    results: list[CheckResult]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def blocking_failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocks]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed and not r.blocking]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures

    def result(self, check_name: str) -> CheckResult:
        for r in self.results:
            if r.check_name == check_name:
                return r
        raise KeyError(check_name)


def input_check_definitions() -> list[CheckDefinition]:
    """Every check of the cycle-inputs gate, in display order (suites first, then Python)."""
    return check_definitions(INPUT_SUITES) + list(PYTHON_INPUT_CHECKS)


def mart_check_definitions() -> list[CheckDefinition]:
    return check_definitions(MART_SUITES) + list(PYTHON_MART_CHECKS)


def _datasets(definitions: Iterable[CheckDefinition]) -> list[str]:
    return sorted({d.dataset for d in definitions})


def _guarded(definition: CheckDefinition, fn: Callable[[], CheckResult]) -> CheckResult:
    """Run a Python check; if it crashes, report it failed with the error (a gate fails closed)."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001
        return CheckResult(check_name=definition.check_name, dataset=definition.dataset,
                           severity=definition.severity, passed=False, description=definition.description,
                           error=exception_line(exc))


def run_input_checks(wh: Warehouse, pay_cycle: str, settings: Settings,
                     now: dt.datetime | None = None) -> CycleReport:
    """Validate one cycle's raw inputs (events, statement lines, statements); nothing is written."""
    parse_cycle(pay_cycle)
    ensure_source_tables(wh)
    params = suite_parameters()
    units = iso4217_minor_units()
    suites: dict[str, Suite] = {name: load_suite(name) for name in INPUT_SUITES}

    # Events and lines are validated a chunk at a time: memory follows the chunk, not the cycle.
    events = ChunkedValidation(suites["raw_payment_events"], params)
    for frame in events_frames(wh, pay_cycle, settings, now=now, minor_units=units,
                               chunk_rows=frames.GATE_CHUNK_ROWS):
        events.validate(frame)
    lines = ChunkedValidation(suites["raw_statement_lines"], params)
    staged = ChunkedValidation(suites["staged_bank_lines"], params)
    accounts: set[str] = set()
    for frame in statement_lines_frames(wh, pay_cycle, minor_units=units, chunk_rows=frames.GATE_CHUNK_ROWS):
        kept = staged_lines_frame(frame)
        lines.validate(frame)
        staged.validate(kept)
        accounts.update(a for a in kept["account_iban"] if a)
    history = statement_history(wh, pay_cycle)
    statements = statements_frame(wh, pay_cycle, history)
    counts = booked_line_counts(wh, pay_cycle)

    results: list[CheckResult] = [*events.results, *lines.results, *staged.results]
    results += validate_frame(suites["raw_statements"], statements, params)
    results = without_released(results, releases(wh))
    python_checks = {
        "held_items_outstanding": lambda: held_items_check(wh, pay_cycle),
        "events_event_id_conflict": lambda: event_id_conflicts(wh, pay_cycle, settings),
        "statement_missing_on_business_day": lambda: missing_statements(pay_cycle, history, counts),
        "bank_line_volume": lambda: bank_line_volume(pay_cycle, history, counts),
    }
    python_results = [_guarded(d, python_checks[d.check_name]) for d in PYTHON_INPUT_CHECKS]
    results += without_released(python_results, releases(wh))
    return CycleReport(pay_cycle, results, {
        "event_deliveries": events.rows,
        "events": distinct_events(wh, pay_cycle, settings),
        "bank_line_deliveries": lines.rows,
        "bank_lines": staged.rows,
        "statements": len(statements),
        "accounts": len(accounts | {a for a in statements["account_iban"] if a}),
    })


def run_mart_checks(wh: Warehouse, pay_cycle: str) -> CycleReport:
    """Validate one cycle's marts after dbt built them (warnings only); nothing is written."""
    parse_cycle(pay_cycle)
    suite = load_suite("reconciliation_links")
    results: list[CheckResult] = []
    if wh.table_exists("marts", "fct_reconciliation_links"):
        links = ChunkedValidation(suite, suite_parameters())
        for frame in links_frames(wh, pay_cycle, chunk_rows=frames.GATE_CHUNK_ROWS):
            links.validate(frame)
        results += links.results
        n_links = links.rows
    else:
        n_links = 0
        results += [CheckResult(d.check_name, d.dataset, d.severity, passed=False, description=d.description,
                                error="marts.fct_reconciliation_links does not exist (dbt has not built it)")
                    for d in suite.checks()]
    definition = PYTHON_MART_CHECKS[0]
    if wh.table_exists("marts", "rpt_close_summary"):
        results.append(_guarded(definition, lambda: match_rate_drop(wh, pay_cycle)))
    else:
        results.append(CheckResult(definition.check_name, definition.dataset, definition.severity, passed=False,
                                   description=definition.description,
                                   error="marts.rpt_close_summary does not exist (dbt has not built it)"))
    return CycleReport(pay_cycle, results, {"links": n_links})


def check_cycle_inputs(wh: Warehouse, pay_cycle: str, settings: Settings,
                       now: dt.datetime | None = None) -> CycleReport:
    """Run the input gate and store its results for the cycle (replacing the previous run's)."""
    report = run_input_checks(wh, pay_cycle, settings, now=now)
    ensure_dq_schema(wh)
    replace_check_results(wh, pay_cycle, report.results, _datasets(input_check_definitions()))
    hold_blocked_items(wh, pay_cycle, report.results)
    return report


def check_cycle_marts(wh: Warehouse, pay_cycle: str) -> CycleReport:
    """Run the mart checks and store their results for the cycle (replacing the previous run's)."""
    report = run_mart_checks(wh, pay_cycle)
    replace_check_results(wh, pay_cycle, report.results, _datasets(mart_check_definitions()))
    return report
