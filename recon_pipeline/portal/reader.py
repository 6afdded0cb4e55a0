"""Where the portal reads from: the published DuckDB snapshot, or the Postgres warehouse itself.

The portal never opens the DuckDB warehouse file (see ``snapshot``'s docstring for why). It
reads the pointer on every request, so a build that publishes a new snapshot is visible on
the next page load without a restart; one read-only connection per snapshot file is shared
by the request threads through DuckDB cursors.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from recon_pipeline.portal.snapshot import SCHEMA, current_snapshot
from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import Warehouse, open_warehouse


class NothingPublished(LookupError):
    """No build has published the portal's tables yet."""


class PortalReader:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._connections: dict[Path, object] = {}

    @contextlib.contextmanager
    def open(self) -> Iterator[Warehouse]:
        if self.settings.uses_postgres:
            with open_warehouse(self.settings) as wh:
                if not wh.table_exists(SCHEMA, "items"):
                    raise NothingPublished("no pay cycle has been published to the portal yet")
                yield wh
            return
        path = current_snapshot(self.settings)
        if path is None:
            raise NothingPublished("no pay cycle has been published to the portal yet (run `recon run`)")
        cursor = self._connection(path).cursor()
        try:
            yield Warehouse("duckdb", cursor, str(path))
        finally:
            cursor.close()

    def _connection(self, path: Path):
        import duckdb

        with self._lock:
            conn = self._connections.get(path)
            if conn is None:
                conn = duckdb.connect(str(path), read_only=True)
                self._connections[path] = conn
                # Keep the previous snapshot's connection for requests still using it.
                for old in list(self._connections)[:-2]:
                    with contextlib.suppress(Exception):
                        self._connections.pop(old).close()
            return conn
