"""``recon serve``: the portal under uvicorn, on 127.0.0.1 unless told otherwise.

Before the first build has published anything, the portal tries to publish a snapshot from
the existing marts itself (a warehouse built before the portal existed); if a build holds the
warehouse it just waits for that build's snapshot, never for the lock.
"""
from __future__ import annotations

import sys

import uvicorn

from recon_pipeline.portal.app import create_app
from recon_pipeline.portal.snapshot import current_snapshot, publish_snapshot
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import WarehouseUnavailable, open_warehouse


def publish_if_missing(settings: Settings) -> None:
    if settings.uses_postgres or current_snapshot(settings) is not None or not settings.duckdb_path.exists():
        return
    try:
        with open_warehouse(settings) as wh:
            if wh.table_exists("marts", "rpt_close_summary"):
                publish_snapshot(wh, settings)
    except WarehouseUnavailable:
        pass  # a build is running; it publishes when it is done


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080) -> int:
    if not settings.portal_users:
        print("recon: no portal users: add `portal: {users: {NAME: HASH}}` to recon.yaml "
              "(HASH from `recon hash-password`)", file=sys.stderr)
        return 1
    publish_if_missing(settings)
    print(f"recon portal on http://{host}:{port}/ ({len(settings.portal_users)} user(s))", flush=True)
    # uvicorn's access log shows method, path and status, never the Authorization header.
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", server_header=False)
    return 0
