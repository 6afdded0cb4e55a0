"""Which dbt test failed, on which keys: one line an operator can act on.

dbt reports a failing test as "Got 1 result, configured to fail if != 0" and dagster-dbt as
"the dbt CLI process ... failed with exit code 1"; neither names the payment or bank line at
fault, and the first line was cut to 300 characters. After a failed build the test's
compiled SQL (from ``run_results.json``) is run once more against the warehouse to read the
failing rows, so the message says e.g. ``dbt test assert_links_stay_within_one_account
failed on 1 row: payment_id=PAY-1, bank_line_id=bl_…``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recon_pipeline.warehouse.connection import Warehouse

MAX_ROWS_SHOWN = 10


def _test_name(unique_id: str) -> str:
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else unique_id


def _row_text(row: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.items())


def failed_test_lines(run_results: Mapping[str, Any], wh: Warehouse | None) -> list[str]:
    """One line per failed or errored dbt test (every one of them, none cut short)."""
    lines = []
    for result in run_results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        if not unique_id.startswith("test.") or result.get("status") not in ("fail", "error"):
            continue
        name = _test_name(unique_id)
        failures = result.get("failures")
        sql = (result.get("compiled_code") or "").strip().rstrip(";")
        rows: list[dict[str, Any]] = []
        if wh is not None and sql and result.get("status") == "fail":
            try:
                rows = wh.fetch_dicts(f"select * from ({sql}) as failing_rows limit {MAX_ROWS_SHOWN + 1}")
            except Exception:  # noqa: BLE001 - the keys are a courtesy; the test name is the message
                rows = []
        count = failures if isinstance(failures, int) else len(rows)
        if rows:
            shown = "; ".join(_row_text(r) for r in rows[:MAX_ROWS_SHOWN])
            more = f" (and {count - MAX_ROWS_SHOWN} more)" if count > MAX_ROWS_SHOWN else ""
            lines.append(f"dbt test {name} failed on {count} row(s): {shown}{more}")
        else:
            message = " ".join(str(result.get("message") or result.get("status")).split())
            lines.append(f"dbt test {name} {result.get('status')}: {message}")
    return lines


def errored_node_lines(run_results: Mapping[str, Any], limit: int = 300) -> list[str]:
    """The models, seeds or snapshots dbt could not build, with dbt's own reason (a lost
    connection, a database error): what dagster-dbt's "the dbt CLI process ... failed" hides.
    One line: the first node and its reason, then the names of the others (a lost connection
    fails every model that was running, for the same reason)."""
    errored = []
    for result in run_results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        if unique_id.startswith(("test.", "unit_test.")) or result.get("status") != "error":
            continue
        message = " ".join(str(result.get("message") or "error").split())
        message = message.split(" compiled code at ", 1)[0]       # a path into target/, not a reason
        if len(message) > limit:
            message = message[: limit - 1] + "…"
        errored.append((unique_id.split(".")[0], _test_name(unique_id), message))
    if not errored:
        return []
    kind, name, message = errored[0]
    line = f"dbt {kind} {name}: {message}"
    if len(errored) > 1:
        line += f" (and {len(errored) - 1} more: {', '.join(n for _, n, _ in errored[1:6])}{', …' if len(errored) > 6 else ''})"
    return [line]


def dbt_error_line(error_text: str, exit_code: int | None, log_path: str | None = None, limit: int = 400) -> str:
    """dbt's own error as one line, for a build that failed before any node could report (a
    connection refused at start, a model that does not compile): otherwise the operator only
    learns the exit code. ``error_text`` is what dbt raised (or a text ending with it after
    "Errors parsed from dbt logs:")."""
    marker = "Errors parsed from dbt logs:"
    text = error_text.split(marker, 1)[1] if marker in error_text else error_text
    parsed = " ".join(text.split())
    if len(parsed) > limit:
        parsed = parsed[: limit - 1] + "…"
    if parsed:
        return f"dbt build failed (exit code {exit_code}): {parsed}"
    return f"dbt build failed with exit code {exit_code} (dbt's log: {log_path or 'the step compute logs'})"
