"""Every download and search goes into ``ops.audit_log`` with the user who made it.

On Postgres the portal appends directly (the table lock keeps the chain whole). On DuckDB the
portal may not write the warehouse (a build may hold the single writer lock, and the portal
must never block a build), so the record is spooled and the next writer appends it: the
``portal_snapshot`` asset drains the spool before it publishes.
"""
from __future__ import annotations

from typing import Any

from recon_pipeline.audit import append_audit, spool_audit
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import open_warehouse

DOWNLOAD = "portal.download"
SEARCH = "portal.search"


def record_access(settings: Settings, user: str, action: str, subject: str, details: dict[str, Any]) -> None:
    if settings.uses_postgres:
        with open_warehouse(settings) as wh:
            append_audit(wh, user, action, subject, details)
    else:
        spool_audit(settings.home, user, action, subject, details)
