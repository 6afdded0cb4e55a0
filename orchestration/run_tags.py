"""Why a run ran, as run tags the Dagster UI shows and filters on.

Dagster tags the runs it starts itself (dagster/schedule_name, dagster/sensor_name,
dagster/backfill); ``recon/trigger`` is added to every run recon starts or requests (the
schedule, the sensors, ``recon run``, a rebuild after an operator decision), so one tag
answers "why" for all of them, and a resolution's rebuild names the exception and the user.
"""
from __future__ import annotations

TRIGGER_TAG = "recon/trigger"


def trigger_tags(trigger: str, **details: str) -> dict[str, str]:
    """``{"recon/trigger": trigger, "recon/<name>": value, ...}``."""
    return {TRIGGER_TAG: trigger, **{f"recon/{name}": str(value) for name, value in details.items()}}


def resolution_tags(exception_id: str, user: str, action: str) -> dict[str, str]:
    """Tags of the rebuild an operator decision starts: which exception, who, what was decided."""
    return trigger_tags("resolution", exception_id=exception_id, user=user, action=action)
