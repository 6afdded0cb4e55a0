"""Where the dbt project lives, how dbt reaches the warehouse, and its manifest.

dbt runs in the Dagster step's process (orchestration/dbt_in_process.py) or, for an
operator's partial rebuild, as a subprocess; either way it learns the warehouse from
environment variables derived here from recon's settings, so ``profiles.yml`` never changes
per deployment. The manifest is built by ``recon prepare`` (and ``make install``) or by
``dagster dev`` (orchestration/definitions.py), never at import time of the definitions.
Dagster's view of the project (``DbtProject``) is in orchestration/dbt.py.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from recon_pipeline.cycles import dbt_vars_for_cycle
from recon_pipeline.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
DBT_TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = DBT_TARGET_DIR / "manifest.json"


def dbt_executable() -> str:
    """The dbt of this environment (the project's venv), so no PATH set-up is needed.

    ``sys.executable`` may be the resolved interpreter outside the venv (Dagster's code server
    is started that way), so the venv's own ``bin`` (``sys.prefix``) is looked at too.
    """
    for candidate in (Path(sys.prefix) / "bin" / "dbt", Path(sys.executable).with_name("dbt")):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment variables ``profiles.yml`` reads, from recon's settings."""
    quiet = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # no phoning home from production runs
    if settings.uses_postgres:
        url = urlparse(settings.warehouse_url or "")
        return {**quiet,
            "RECON_DBT_TARGET": "postgres",
            "RECON_PG_HOST": url.hostname or "127.0.0.1",
            "RECON_PG_PORT": str(url.port or 5432),
            "RECON_PG_USER": unquote(url.username or "postgres"),
            "RECON_PG_PASSWORD": unquote(url.password or ""),
            "RECON_PG_DATABASE": (url.path or "/recon").lstrip("/") or "recon",
        }
    return {**quiet, "RECON_DBT_TARGET": "duckdb", "RECON_DUCKDB_PATH": str(settings.duckdb_path)}


def apply_dbt_env(settings: Settings) -> None:
    os.environ.update(dbt_env(settings))


# The per-cycle dbt settings travel as environment variables (read by macros/cycle_vars.sql
# only while executing); the rest stay `--vars`, which are then the same for every cycle.
CYCLE_ENV_VARS = {
    "pay_cycle": "RECON_PAY_CYCLE",
    "cycle_start_utc": "RECON_CYCLE_START_UTC",
    "cycle_end_utc": "RECON_CYCLE_END_UTC",
}


def dbt_cycle_invocation(dbt_vars: Mapping[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The ``--vars`` arguments and the environment of one cycle's dbt build.

    Why split: dbt hashes ``--vars`` into its partial-parsing state, so vars that change every
    cycle forced a full re-parse of the project per cycle (seconds of fixed cost each). The
    cycle itself goes in the environment instead; the vars left are per deployment.
    """
    env = {CYCLE_ENV_VARS[k]: str(v) for k, v in dbt_vars.items() if k in CYCLE_ENV_VARS}
    steady = {k: v for k, v in dbt_vars.items() if k not in CYCLE_ENV_VARS}
    return ["--vars", json.dumps(steady, sort_keys=True)], env


def keep_partial_parse(run_target_path: Path) -> None:
    """Make a parse's state the starting point of the next process's parse.

    Each run process parses the project in a folder of its own, seeded with
    ``target/partial_parse.msgpack`` (orchestration/dbt_in_process.py); without this, every
    process started from the state of ``recon prepare`` (other profile, other vars) and
    re-parsed everything. Replaced atomically, so concurrent runs never read half a file; dbt
    checks the state and re-parses by itself when it does not fit (another warehouse, changed files).
    """
    produced = Path(run_target_path) / "partial_parse.msgpack"
    if not produced.is_file():
        return
    shared = DBT_TARGET_DIR / "partial_parse.msgpack"
    shared.parent.mkdir(parents=True, exist_ok=True)
    tmp = shared.with_name(f".partial_parse.{os.getpid()}.msgpack")
    shutil.copyfile(produced, tmp)
    os.replace(tmp, shared)


def newest_source_mtime() -> float:
    newest = (DBT_PROJECT_DIR / "dbt_project.yml").stat().st_mtime
    for folder in ("models", "macros", "seeds", "tests"):
        for path in (DBT_PROJECT_DIR / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def ensure_manifest(force: bool = False) -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project's files."""
    manifest = MANIFEST_PATH
    if not force and manifest.is_file() and manifest.stat().st_mtime >= newest_source_mtime():
        return manifest
    env = dict(os.environ)
    env.setdefault("RECON_DBT_TARGET", "duckdb")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.setdefault("RECON_DUCKDB_PATH", str(DBT_TARGET_DIR / "parse_only.duckdb"))
    proc = subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not manifest.is_file():
        detail = (proc.stdout + proc.stderr).strip().splitlines()
        raise RuntimeError(f"dbt parse failed: {detail[-1] if detail else 'no output'}")
    return manifest


# dbt's line for a finished node: "12:00:01  7 of 40 OK created sql table model marts.x ...".
_DBT_DONE = re.compile(r"\b(\d+) of (\d+) (OK|PASS|WARN|ERROR|FAIL|SKIP)\b")
DBT_PROGRESS_EVERY = 10


def build_models(settings: Settings, pay_cycle: str, models: list[str],
                 progress: Callable[[str], None] | None = None) -> tuple[bool, str]:
    """``dbt build`` of just ``models`` for one cycle, outside Dagster; (success, last output line).

    The per-cycle dbt assets are one unit in Dagster (a cycle's models build together, after the
    previous cycle's), so a decision that only changes a cycle's exception slice can't select a
    few of them there; it runs them here and lets the close job write the pack. ``progress``
    gets a line every few finished nodes (and for each failure), so a long build is not silent.
    """
    vars_args, cycle_env = dbt_cycle_invocation(dbt_vars_for_cycle(pay_cycle, settings))
    env = {**os.environ, **dbt_env(settings), **cycle_env}
    proc = subprocess.Popen(
        [dbt_executable(), "build", "--select", *models, "--exclude-resource-type", "unit_test", *vars_args,
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.rstrip()
        if not line.strip():
            continue
        lines.append(line)
        done = _DBT_DONE.search(line)
        if progress is not None and done is not None:
            number, total, status = int(done.group(1)), int(done.group(2)), done.group(3)
            if status in ("ERROR", "FAIL") or number % DBT_PROGRESS_EVERY == 0 or number == total:
                progress(f"dbt: {number} of {total} done" + (f" ({status}: {line.split(status, 1)[1].strip()})"
                                                              if status in ("ERROR", "FAIL") else ""))
    returncode = proc.wait()
    return returncode == 0, (lines[-1] if lines else "")
