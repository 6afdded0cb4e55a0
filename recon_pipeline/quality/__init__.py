"""Data-quality gates: Great Expectations suites and Python checks over one pay cycle's data.

``check_cycle_inputs`` validates a cycle's raw inputs before dbt may reconcile them (its
blocking failures stop the cycle); ``check_cycle_marts`` validates the marts afterwards
(warnings only). Both store their results in ``dq.check_results``, one row per check per
cycle, which the close pack's Data quality sheet and the Dagster UI show.

The suites live in ``expectations/*.json`` (see ``expectations/README.md``). One job per module:
``gates`` runs a cycle's checks and stores them, ``frames`` builds the data the suites read,
``python_checks`` holds the checks GX cannot state, ``suites`` loads and runs the GX suites,
``staging_rules`` renders staging's delivery rules for the gate, ``values`` the exact amounts,
``results`` stores results. No Dagster imports: ``assets/quality.py`` wires it into asset checks.
"""
from recon_pipeline.iban import iban_checksum_ok, iban_shaped
from recon_pipeline.quality.gates import (
    INPUT_SUITES,
    MART_SUITES,
    PYTHON_INPUT_CHECKS,
    PYTHON_MART_CHECKS,
    CycleReport,
    check_cycle_inputs,
    check_cycle_marts,
    input_check_definitions,
    mart_check_definitions,
    run_input_checks,
    run_mart_checks,
)
from recon_pipeline.quality.results import (
    BLOCKING,
    DQ_TABLE,
    WARNING,
    CheckDefinition,
    CheckResult,
    ensure_dq_schema,
    read_check_results,
    replace_check_results,
)
from recon_pipeline.quality.suites import (
    EXPECTATIONS_DIR,
    Suite,
    SuiteError,
    iso4217_minor_units,
    load_suite,
    validate_frame,
)
from recon_pipeline.quality.values import amount_scale, amount_text

__all__ = [
    "BLOCKING", "WARNING", "DQ_TABLE", "EXPECTATIONS_DIR", "INPUT_SUITES", "MART_SUITES",
    "PYTHON_INPUT_CHECKS", "PYTHON_MART_CHECKS", "CheckDefinition", "CheckResult", "CycleReport", "Suite",
    "SuiteError", "amount_scale", "amount_text", "check_cycle_inputs", "check_cycle_marts",
    "ensure_dq_schema", "iban_checksum_ok", "iban_shaped", "input_check_definitions", "iso4217_minor_units",
    "load_suite", "mart_check_definitions", "read_check_results", "replace_check_results",
    "run_input_checks", "run_mart_checks", "validate_frame",
]
