"""Dagster run as a service in tests: the daemon and the webserver as real processes on a
Postgres-backed instance, driven through the GraphQL API the UI uses.

Each test gets its own Postgres databases (uuid names, dropped afterwards) and its own
RECON_HOME; the processes are started from the repository root with the project's
workspace.yaml, exactly as deploy/ runs them, and are stopped by their process group.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCATION = "orchestration.definitions"   # workspace.yaml's python_module, the default location name
REPOSITORY = "__repository__"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recon_env(home: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "DAGSTER_"))}
    env.update(RECON_HOME=str(home), DAGSTER_HOME=str(home / "dagster"), **variables)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return env


def recon(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(BIN / "recon"), *args], env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, f"recon {' '.join(args)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


class DagsterService:
    """``dagster-daemon run`` and (optionally) ``dagster-webserver`` for one RECON_HOME."""

    def __init__(self, env: dict[str, str], log_dir: Path, webserver: bool = True):
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []
        recon(env, "prepare", "--instance")   # the instance's dagster.yaml, as `make ui` writes it
        self._start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"])
        if webserver:
            self._start("webserver", [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port),
                                      "-w", "workspace.yaml"])
            self._wait_for_webserver()

    def _start(self, name: str, cmd: list[str]) -> None:
        self.procs.append(self._popen(name, cmd))

    def _popen(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")
        return subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def kill_daemon_and_start_it_again(self) -> None:
        """What a restarted machine or container does to the daemon: SIGKILL to its process
        group (its code server and the runs that server launched die with it), then a new one."""
        daemon = self.procs[0]
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait(timeout=30)
        self.procs[0] = self._popen("daemon-restarted", [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"])

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")[-4000:]

    def _wait_for_webserver(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/server_info", timeout=5).ok:
                    status = self.graphql("{ workspaceOrError { ... on Workspace { locationEntries { "
                                          "locationOrLoadError { __typename ... on PythonError { message } } } } } }")
                    entries = status["workspaceOrError"]["locationEntries"]
                    kinds = [e["locationOrLoadError"] and e["locationOrLoadError"]["__typename"] for e in entries]
                    if kinds == ["RepositoryLocation"]:
                        return
                    assert "PythonError" not in kinds, f"code location failed to load: {entries}"
            except requests.ConnectionError:
                pass
            time.sleep(2)
        raise AssertionError(f"the webserver did not come up:\n{self.log('webserver')}")

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(self.url, json={"query": query, "variables": variables or {}}, timeout=300)
        assert response.ok, f"GraphQL answered {response.status_code}: {response.text[:3000]}"
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def instance_for(env: dict[str, str], monkeypatch):
    """The service's Dagster instance, read from this process (same storage)."""
    from dagster import DagsterInstance

    monkeypatch.setenv("RECON_DAGSTER_STORAGE_URL", env["RECON_DAGSTER_STORAGE_URL"])
    return DagsterInstance.from_config(env["DAGSTER_HOME"])
