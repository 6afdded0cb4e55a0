"""CONTRACT §6 settings as dbt vars, kept apart from the pay-cycle window arithmetic.

The SQL only ever sees plain JSON values: a switch, the flows (entry service → participants)
and the two deadlines in whole minutes, so fractional hours in ``recon.yaml`` work and the
interval arithmetic stays integer on DuckDB and Postgres alike.
"""
from __future__ import annotations

from typing import Any

from recon_pipeline.settings import Settings


def internal_consistency_vars(settings: Settings) -> dict[str, Any]:
    """Nothing without an ``internal_consistency`` section: the project's defaults (switched
    off) then apply, every event is the payment's own and nothing is tracked, as before §6."""
    ic = settings.internal_consistency
    if ic is None:
        return {}
    return {
        "internal_consistency_enabled": True,
        "internal_flows": {entry: list(participants) for entry, participants in sorted(ic.flows.items())},
        "report_within_minutes": round(ic.report_within_hours * 60),
        "late_after_minutes": round(ic.late_after_hours * 60),
    }
