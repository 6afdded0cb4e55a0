"""Check results: one shape for GX and Python checks, persisted per cycle in ``dq.check_results``.

The close pack's Data quality sheet and the Dagster UI show the same rows, so a result is
written once, here, and read by both. A cycle's rows are replaced (delete + insert in one
transaction) every time its checks run: re-running a cycle gives the same rows, never an
accumulation, and no other cycle's rows are touched.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from recon_pipeline.warehouse.connection import Warehouse

BLOCKING = "blocking"
WARNING = "warning"
SEVERITIES = (BLOCKING, WARNING)

# How much evidence a row carries: enough to find the records, short enough for a cell.
MAX_EVIDENCE_KEYS = 20
MAX_EVIDENCE_CHARS = 4000

DQ_TABLE = "dq.check_results"
_DDL = """
    pay_cycle date not null,
    check_name varchar not null,
    dataset varchar not null,
    severity varchar not null,
    passed boolean not null,
    failing_count integer not null,
    evidence varchar
"""


@dataclass(frozen=True)
class CheckDefinition:
    """What a check is, known without running it (so Dagster can declare it up front)."""

    check_name: str
    dataset: str
    severity: str            # blocking | warning
    description: str
    source: str              # "gx:<suite file>" or "python"

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING


@dataclass
class CheckResult:
    """The outcome of one check for one pay cycle, with the evidence to act on it."""

    check_name: str
    dataset: str
    severity: str
    passed: bool
    failing_count: int = 0
    failing_keys: list[str] = field(default_factory=list)   # every failing key, uncapped
    key_name: str = "key"                                   # what the keys are: event_id, bank_line_id...
    details: list[str] = field(default_factory=list)        # one short line per failing key
    expectation: str = ""                                   # the rule, as the suite states it
    description: str = ""
    rows_checked: int = 0
    error: str | None = None                                # the check itself could not run

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING

    @property
    def blocks(self) -> bool:
        """True when this result must stop the cycle: a failed blocking check."""
        return self.blocking and not self.passed

    def summary(self) -> str:
        """One line for logs, the Dagster UI and run failure messages."""
        if self.error:
            return f"{self.check_name}: could not run ({self.error})"
        if self.passed:
            return f"{self.check_name}: passed ({self.rows_checked} row(s) checked)"
        keys = ", ".join(self.failing_keys[:5])
        more = f" (+{self.failing_count - 5} more)" if self.failing_count > 5 else ""
        return f"{self.check_name}: {self.failing_count} failing {self.key_name}(s): {keys}{more}"

    def evidence(self) -> str:
        """The capped, JSON evidence stored in ``dq.check_results.evidence``."""
        doc: dict[str, Any] = {
            "key": self.key_name,
            "failing_count": self.failing_count,
            "failing_keys": self.failing_keys[:MAX_EVIDENCE_KEYS],
            "rows_checked": self.rows_checked,
        }
        if self.failing_count > MAX_EVIDENCE_KEYS:
            doc["more"] = self.failing_count - MAX_EVIDENCE_KEYS
        if self.details:
            doc["details"] = [d[:300] for d in self.details[:MAX_EVIDENCE_KEYS]]
        if self.error:
            doc["error"] = self.error[:500]
        text = json.dumps(doc, ensure_ascii=False, default=str)
        while len(text) > MAX_EVIDENCE_CHARS and doc.get("details"):
            doc["details"] = doc["details"][:-1]
            text = json.dumps(doc, ensure_ascii=False, default=str)
        return text[:MAX_EVIDENCE_CHARS]


def ensure_dq_schema(wh: Warehouse) -> None:
    """Create ``dq.check_results`` if it is missing (idempotent)."""
    wh.execute("create schema if not exists dq")
    wh.execute(f"create table if not exists {DQ_TABLE} ({_DDL})")


def _as_date(pay_cycle: str | dt.date) -> dt.date:
    return pay_cycle if isinstance(pay_cycle, dt.date) else dt.date.fromisoformat(pay_cycle)


def replace_check_results(wh: Warehouse, pay_cycle: str | dt.date, results: Sequence[CheckResult],
                          datasets: Iterable[str]) -> int:
    """Replace this cycle's rows for ``datasets`` with ``results``, all or nothing.

    Scoped by dataset because the input gate and the mart checks run at different moments
    of a cycle's build: each replaces its own rows and leaves the other's alone.
    """
    cycle = _as_date(pay_cycle)
    datasets = sorted(set(datasets) | {r.dataset for r in results})
    ensure_dq_schema(wh)
    rows = [(cycle, r.check_name, r.dataset, r.severity, bool(r.passed), int(r.failing_count), r.evidence())
            for r in results]
    with wh.transaction():
        if datasets:
            marks = ", ".join("?" for _ in datasets)
            wh.execute(f"delete from {DQ_TABLE} where pay_cycle = ? and dataset in ({marks})",
                       (cycle, *datasets))
        wh.executemany(
            f"insert into {DQ_TABLE} (pay_cycle, check_name, dataset, severity, passed, failing_count, evidence) "
            "values (?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def read_check_results(wh: Warehouse, pay_cycle: str | dt.date) -> list[dict[str, Any]]:
    """This cycle's stored rows, in check-name order (what the close pack shows)."""
    if not wh.table_exists("dq", "check_results"):
        return []
    return wh.fetch_dicts(
        f"select pay_cycle, check_name, dataset, severity, passed, failing_count, evidence "
        f"from {DQ_TABLE} where pay_cycle = ? order by check_name", (_as_date(pay_cycle),))
