"""A pay cycle's dbt build inside the Dagster step's own process, the parsed project kept.

Why not dagster-dbt's ``DbtCliResource.cli``: it starts dbt as a new process for every build,
and a 30-payment cycle's build then took 14.4 s where the same build in-process takes 6.5 s
(measured 2026-11-30 on the 2-core machine, idle): 4.5 s importing dbt (which the step's process
has imported already), ~2 s loading the parse state and registering the adapter, ~0.5 s
writing the 3 MB manifest again, all before or after the first model. Here a process parses
the project once (for its vars and warehouse) and every later build — each cycle of a range
run, each cycle of ``recon run`` — starts at its first model.

What stays dagster-dbt's: the assets and their checks (``@dbt_assets``) and the translation of
dbt's result events into Dagster events (``DbtCoreCliEventMessage.to_default_asset_events``),
so the UI shows the same materializations and check results as before.

dbt runs on a worker thread; the step's thread turns each result into an Output or a check
result as it arrives, so a long build shows progress. A killed run takes dbt with it: there
is no child process left writing the warehouse. A step that stops listening (a terminated run)
interrupts dbt as Ctrl-C would and waits for it; one build runs at a time in a process, since
dbt keeps its adapters and event callbacks process-wide.
"""
from __future__ import annotations

import ctypes
import json
import os
import queue
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, Failure

from recon_pipeline.dbt_setup import DBT_PROJECT_DIR, DBT_TARGET_DIR, keep_partial_parse, newest_source_mtime

# dbt's events that carry a node's result; everything else stays in dbt's own log.
_RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})
# What a parsed project depends on besides its files: its vars, the target and the warehouse
# (dbt-duckdb names every relation's database after the file).
_PROFILE_ENV = ("RECON_DBT_TARGET", "RECON_DUCKDB_PATH", "RECON_PG_HOST", "RECON_PG_PORT",
                "RECON_PG_USER", "RECON_PG_DATABASE")
_DONE = object()
# Unit tests of the matching rules run in the test suite, not in every cycle's build.
_BUILD = ("build", "--exclude-resource-type", "unit_test")

_parsed: tuple[tuple, Any] | None = None  # (what it was parsed for, dbt's manifest): one per process
_parse_lock = threading.Lock()
# dbt keeps its adapters, flags and event callbacks in process-wide state: one build at a time.
_build_lock = threading.Lock()
# How long a build that its step gave up on (a terminated run, an error while reporting) gets
# to stop after it is interrupted, before the next build may start anyway.
_STOP_WAIT_SECONDS = 120


def _paths(target_path: Path) -> list[str]:
    return ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target_path), "--log-path", str(target_path)]


def parsed_project(vars_args: Sequence[str]):
    """dbt's manifest of the project for these vars and this warehouse, parsed once per process.

    Parsed in a folder of this process's own (seeded with the shared partial-parse state, which
    it then refreshes), so concurrent runs never write each other's files."""
    from dbt.cli.main import dbtRunner

    global _parsed
    key = (tuple(vars_args), tuple(os.environ.get(k) for k in _PROFILE_ENV), newest_source_mtime(),
           (DBT_PROJECT_DIR / "profiles.yml").stat().st_mtime)
    with _parse_lock:
        if _parsed is not None and _parsed[0] == key:
            return _parsed[1]
        where = DBT_TARGET_DIR / f"parse-{os.getpid()}"
        where.mkdir(parents=True, exist_ok=True)
        shared_state = DBT_TARGET_DIR / "partial_parse.msgpack"
        if shared_state.is_file():
            shutil.copyfile(shared_state, where / "partial_parse.msgpack")
        result = dbtRunner().invoke(["parse", "--quiet", *vars_args, *_paths(where)])
        if not result.success or result.result is None:
            raise RuntimeError(f"dbt parse failed: {result.exception or 'see dbt.log in ' + str(where)}")
        keep_partial_parse(where)
        shutil.rmtree(where, ignore_errors=True)
        # dbt writes into a manifest's nodes as it compiles them; for ephemeral models it marks
        # their CTEs as injected, so a kept manifest would build them wrong the second time.
        ephemeral = any(getattr(node.config, "materialized", None) == "ephemeral" for node in result.result.nodes.values())
        _parsed = None if ephemeral else (key, result.result)
        return result.result


class InProcessBuild:
    """One ``dbt build`` in this process: what ``DbtCliInvocation`` offered the asset, no more
    (``stream``, ``is_successful``, ``get_error``, ``get_artifact``, ``returncode``)."""

    def __init__(self, context: AssetExecutionContext, vars_args: Sequence[str], target_path: Path):
        self.context = context
        self.vars_args = list(vars_args)
        self.target_path = target_path
        self._result = None

    def stream(self) -> Iterator[Any]:
        """Dagster events for dbt's results, as dbt produces them."""
        from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets
        from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
        from dbt.cli.main import dbtRunner, dbtRunnerResult
        from dbt_common.events.functions import msg_to_dict

        manifest, translator, project = get_manifest_and_translator_from_dbt_assets([self.context.assets_def])
        results: queue.SimpleQueue = queue.SimpleQueue()

        def on_event(msg) -> None:
            if msg.info.name in _RESULT_EVENTS:
                results.put(msg_to_dict(msg))

        def build() -> None:
            try:
                dbt_manifest = parsed_project(self.vars_args)
                # --no-write-json: the 3 MB manifest is not re-written per cycle; run_results.json,
                # which the failure line and the profiles read, is written below. The log file
                # keeps info lines: the SQL each model ran is in the build's run/ folder, and
                # writing every debug event cost ~1 s a cycle (dbt 8.6 → 6.6 s, same cycle).
                self._result = dbtRunner(manifest=dbt_manifest, callbacks=[on_event]).invoke(
                    [*_BUILD, *self.vars_args, "--no-write-json", "--log-level-file", "info", *_paths(self.target_path)])
            except BaseException as exc:  # noqa: BLE001 - reported as the build's error (a parse failure too)
                self._result = dbtRunnerResult(success=False, exception=exc)
            finally:
                _release_duckdb()
                results.put(_DONE)

        self.target_path.mkdir(parents=True, exist_ok=True)
        if not _build_lock.acquire(timeout=_STOP_WAIT_SECONDS):
            raise Failure(description="an earlier dbt build in this process did not stop; retry the run")
        worker = threading.Thread(target=build, name="dbt-build", daemon=True)
        try:
            worker.start()
            while (raw := results.get()) is not _DONE:
                event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
                yield from event.to_default_asset_events(manifest=manifest, dagster_dbt_translator=translator,
                                                         context=self.context, target_path=self.target_path,
                                                         project=project)
        finally:
            if worker.is_alive():
                # The step stopped listening (the run was terminated, or reporting failed): stop dbt
                # as Ctrl-C would, rather than leave it writing the warehouse unsupervised.
                _interrupt(worker)
            worker.join(_STOP_WAIT_SECONDS)
            _build_lock.release()
        outcome = self._result.result if self._result is not None else None
        if outcome is not None and hasattr(outcome, "write"):
            outcome.write(str(self.target_path / "run_results.json"))

    def is_successful(self) -> bool:
        return self._result is not None and self._result.success

    def get_error(self) -> BaseException | None:
        return None if self._result is None else self._result.exception

    @property
    def returncode(self) -> int:
        """dbt's exit code: 0 built, 1 a node failed, 2 dbt itself failed."""
        if self.is_successful():
            return 0
        return 2 if self._result is None or self._result.exception is not None else 1

    def get_artifact(self, name: str) -> dict:
        return json.loads((self.target_path / name).read_text())


def _interrupt(worker: threading.Thread) -> None:
    """KeyboardInterrupt in dbt's thread (dbt then cancels its queries and stops, as on Ctrl-C),
    and the running queries cancelled so the interrupt is seen at once."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(KeyboardInterrupt))
    try:
        from dbt.adapters.factory import FACTORY
    except ImportError:
        return
    for adapter in list(FACTORY.adapters.values()):
        try:
            adapter.cancel_open_connections()
        except Exception:  # noqa: BLE001, S112 - best effort: the interrupt is already on its way
            continue


def _release_duckdb() -> None:
    """Close the DuckDB file dbt-duckdb keeps open in this process after a build.

    dbt-duckdb holds one database instance per process for its next invocation; left open, the
    step's own read-only checks could not open the file ("different configuration"), and no
    other process could write it until this one exits."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # only the Postgres adapter is installed
        return
    with DuckDBConnectionManager._LOCK:
        env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if env is not None:
        env.close()


def dbt_build(context: AssetExecutionContext, vars_args: Sequence[str]) -> InProcessBuild:
    """A build of the whole project (the unit is never subset) with these ``--vars``, its
    artifacts in a folder of its own."""
    run = context.run.run_id[:8]
    target = DBT_TARGET_DIR / f"{context.op_execution_context.op.name}-{run}-{os.urandom(3).hex()}"
    return InProcessBuild(context, vars_args, target)
