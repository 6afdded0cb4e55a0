"""One small connection type over DuckDB (embedded default) and Postgres (production).

The loaders, ledgers and operator logs only need parameterised statements, bulk inserts and
transactions; keeping that surface tiny is what lets the same Python code write to either
warehouse. SQL passed in uses ``?`` placeholders and the portable subset of both dialects.
The drivers and pyarrow are imported where used: a process talks to one kind of warehouse,
and pyarrow (bulk inserts into DuckDB) is not worth its start-up cost to every command.
"""
from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.identity import WarehouseReplaced, check_missing_file, verify_identity

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\?")


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be opened; the message is the one-line reason."""


# DuckDB's buffer cap while a raw file loads (a million event rows, a statement at the size cap,
# stay flat): see ``Warehouse.memory_capped``.
LOAD_MEMORY_LIMIT = "64MB"


class Warehouse:
    """A connection to the warehouse. Use as a context manager; ``transaction()`` groups writes."""

    def __init__(self, kind: str, conn: Any, target: str):
        self.kind = kind          # "duckdb" or "postgres"
        self._conn = conn
        self.target = target      # file path or URL (without password), for messages
        self._in_tx = False

    # ----- statements -------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return _PLACEHOLDER.sub("%s", sql) if self.kind == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self.kind == "postgres":
            with self._conn.cursor() as cur:
                cur.execute(self._sql(sql), tuple(params) if params else None)
            if not self._in_tx:
                self._conn.commit()
        else:
            self._conn.execute(sql, list(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(r) for r in rows]
        if not rows:
            return
        if self.kind == "postgres":
            with self._conn.cursor() as cur:
                cur.executemany(self._sql(sql), rows)
            if not self._in_tx:
                self._conn.commit()
        else:
            self._conn.executemany(sql, [list(r) for r in rows])

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        """Insert many rows fast: an Arrow scan on DuckDB, COPY on Postgres. Returns the row count.

        Row-by-row ``executemany`` is orders of magnitude slower on DuckDB, and loads of
        hundreds of thousands of statement lines are normal for a busy account.
        """
        if not rows:
            return 0
        cols = ", ".join(f'"{c}"' for c in columns)
        if self.kind == "postgres":
            with self._conn.cursor() as cur:
                with cur.copy(f"copy {table} ({cols}) from stdin") as copy:
                    for row in rows:
                        copy.write_row(row)
            if not self._in_tx:
                self._conn.commit()
            return len(rows)
        import pyarrow as pa

        types = dict(self._conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ?", list(table.split(".", 1))).fetchall())
        arrays = []
        for i, name in enumerate(columns):
            arrays.append(pa.array([r[i] for r in rows], type=_arrow_type(types.get(name, "VARCHAR"))))
        # Read through DuckDB's replacement scan of this local variable, not ``register``: a
        # registered view is a catalogue entry the open transaction keeps, with its Arrow data,
        # until commit (measured: twice the memory over a file's batches in one transaction).
        # The name is one no table or view of ours has: a catalogue entry of that name would be
        # read instead of the variable.
        _recon_bulk_arrow_rows = pa.table(arrays, names=list(columns))  # noqa: F841 - read by the SQL below
        del arrays
        self._conn.execute(f"insert into {table} ({cols}) select {cols} from _recon_bulk_arrow_rows")
        return len(rows)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        if self.kind == "postgres":
            with self._conn.cursor() as cur:
                cur.execute(self._sql(sql), tuple(params) if params else None)
                rows = cur.fetchall() if cur.description else []
            if not self._in_tx:
                self._conn.commit()
            return rows
        return self._conn.execute(sql, list(params)).fetchall()

    def fetch_dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        if self.kind == "postgres":
            with self._conn.cursor() as cur:
                cur.execute(self._sql(sql), tuple(params) if params else None)
                cols = [d[0] for d in cur.description] if cur.description else []
                rows = cur.fetchall() if cur.description else []
            if not self._in_tx:
                self._conn.commit()
        else:
            cur = self._conn.execute(sql, list(params))
            cols = [d[0] for d in cur.description] if cur.description else []
            rows = cur.fetchall() if cur.description else []
        return [dict(zip(cols, r)) for r in rows]

    def iter_rows(self, sql: str, params: Sequence[Any] = (), batch_size: int = 5000) -> Iterator[tuple]:
        """Stream a query's rows in batches, so a large result is never held at once.

        DuckDB streams on its own cursor (other statements on the connection may run between
        batches); Postgres uses a server-side cursor.
        """
        if self.kind == "postgres":
            with self._conn.transaction():
                with self._conn.cursor(name=f"recon_stream_{id(self)}") as cur:
                    cur.itersize = batch_size
                    cur.execute(self._sql(sql), tuple(params) if params else None)
                    while True:
                        rows = cur.fetchmany(batch_size)
                        if not rows:
                            break
                        yield from rows
            return
        cur = self._conn.cursor()
        try:
            cur.execute(sql, list(params))
            while True:
                rows = cur.fetchmany(batch_size)
                if not rows:
                    break
                yield from rows
        finally:
            cur.close()

    def column_names(self, sql: str, params: Sequence[Any] = ()) -> list[str]:
        """The result columns of a query, without fetching its rows."""
        probe = f"select * from ({sql}) as probe where 1 = 0"
        if self.kind == "postgres":
            with self._conn.cursor() as cur:
                cur.execute(self._sql(probe), tuple(params) if params else None)
                names = [d[0] for d in cur.description]
            if not self._in_tx:
                self._conn.commit()
            return names
        return [d[0] for d in self._conn.execute(probe, list(params)).description]

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def table_exists(self, schema: str, table: str) -> bool:
        row = self.fetchone(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            (schema, table))
        return bool(row and row[0])

    @contextlib.contextmanager
    def catalogue_change(self) -> Iterator[Warehouse]:
        """A transaction for ``create ... if not exists`` that several processes may run at once.

        Postgres checks "if not exists" before it takes its catalogue locks, so two first writers
        both try the create and one fails on ``pg_type_typname_nsp_index``; an advisory lock held
        to commit serialises them. DuckDB has one writer process, so a plain transaction suffices.
        """
        with self.transaction():
            if self.kind == "postgres":
                self.execute("select pg_advisory_xact_lock(hashtext('recon.catalogue'))")
            yield self

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """All-or-nothing: a crash inside leaves the warehouse as it was before."""
        if self._in_tx:
            yield self
            return
        if self.kind == "duckdb":
            self._conn.execute("begin transaction")
        self._in_tx = True
        try:
            yield self
        except BaseException:
            self._in_tx = False
            self._conn.rollback()
            raise
        self._in_tx = False
        self._conn.commit()

    @contextlib.contextmanager
    def memory_capped(self, limit: str) -> Iterator[Warehouse]:
        """Cap DuckDB's buffer memory (e.g. ``"64MB"``) for a long append, then restore it.

        A primary-key index and freshly written blocks otherwise stay in memory for as long
        as the connection lives; with a cap DuckDB writes them out instead. What was written
        is checkpointed before the cap is lifted: a checkpoint left to the close of the
        connection runs uncapped (a million quarantined rows took 50 MiB more at close than
        while loading). No-op on Postgres.
        """
        if self.kind != "duckdb":
            yield self
            return
        previous = self._conn.execute("select current_setting('memory_limit')").fetchone()[0]
        self._conn.execute(f"set memory_limit = '{limit}'")
        try:
            yield self
            if not self._in_tx:
                try:
                    self._conn.execute("checkpoint")
                except Exception as exc:  # noqa: BLE001 - see below
                    # Best effort: what was written is committed either way (the close or the
                    # next automatic checkpoint writes it); the cap only shapes the memory.
                    log.warning("checkpoint under the memory cap failed: %s", exc)
        finally:
            self._conn.execute(f"set memory_limit = '{previous}'")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _arrow_type(duckdb_type: str) -> Any:
    import pyarrow as pa

    t = duckdb_type.upper()
    if t.startswith("DECIMAL"):
        precision, scale = (int(x) for x in t[t.index("(") + 1:t.index(")")].split(","))
        return pa.decimal128(precision, scale)
    return {
        "INTEGER": pa.int32(), "BIGINT": pa.int64(), "BOOLEAN": pa.bool_(), "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"), "BLOB": pa.binary(), "DOUBLE": pa.float64(),
    }.get(t, pa.string())


def open_warehouse(settings: Settings, read_only: bool = False) -> Warehouse:
    """Open the configured warehouse: Postgres for a ``postgresql://`` URL, else the DuckDB file.

    The warehouse must be the one this home has been using (``identity``): a missing or
    replaced warehouse is refused with ``WarehouseUnavailable``, never recreated silently.
    """
    wh = _connect(settings, read_only)
    try:
        verify_identity(wh, settings.home, read_only=read_only)
    except WarehouseReplaced as exc:
        wh.close()
        raise WarehouseUnavailable(str(exc)) from None
    return wh


def _connect(settings: Settings, read_only: bool) -> Warehouse:
    if settings.uses_postgres:
        import psycopg

        url = settings.warehouse_url or ""
        try:
            conn = psycopg.connect(url, connect_timeout=10)
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise WarehouseUnavailable(f"cannot connect to Postgres warehouse: {first}") from None
        return Warehouse("postgres", conn, warehouse_target(settings))
    import duckdb

    path: Path = settings.duckdb_path
    try:
        check_missing_file(settings.home, str(path), path)
    except WarehouseReplaced as exc:
        raise WarehouseUnavailable(str(exc)) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        raise WarehouseUnavailable(
            f"cannot open DuckDB warehouse {path}: {str(exc).splitlines()[0]}") from None
    return Warehouse("duckdb", conn, warehouse_target(settings))


def warehouse_target(settings: Settings) -> str:
    """How a warehouse is named in messages and in the home's identity record: the DuckDB file's
    path, or the Postgres URL without its password."""
    if settings.uses_postgres:
        return re.sub(r"//[^@/]*@", "//***@", settings.warehouse_url or "")
    return str(settings.duckdb_path)
