"""deploy/ as written runs: the compose file parses, its services run this repository's
commands, its dagster.yaml is the one recon writes for Postgres, and the code server starts
and answers a health check on the compose command line (no Docker engine needed)."""
from __future__ import annotations

import subprocess
import time

import yaml

from orchestration.instance import instance_yaml
from recon_pipeline.settings import load_settings
from tests.orchestration.services import BIN, ROOT, free_port, recon_env

DEPLOY = ROOT / "deploy"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())


def test_compose_runs_postgres_user_code_webserver_and_daemon_with_installed_commands():
    services = _compose()["services"]
    assert set(services) == {"postgres", "user_code", "webserver", "daemon"}
    for name in ("user_code", "webserver", "daemon"):
        command = services[name]["command"]
        assert (BIN / command[0]).is_file(), f"{name}: {command[0]} is not installed by the project"
        env = services[name]["environment"]
        assert env["RECON_DAGSTER_STORAGE_URL"].startswith("postgresql://")
        assert env["RECON_WAREHOUSE_URL"].startswith("postgresql://")
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    server = workspace["load_from"][0]["grpc_server"]
    assert server["host"] == "user_code" and str(server["port"]) in services["user_code"]["command"]
    for name in ("webserver", "daemon"):
        assert services[name]["depends_on"]["user_code"]["condition"] == "service_healthy"


def test_deploy_dagster_yaml_is_what_recon_writes_for_postgres(tmp_path):
    env = _compose()["services"]["daemon"]["environment"]
    settings = load_settings(environ={"RECON_HOME": str(tmp_path),
                                      "RECON_DAGSTER_STORAGE_URL": env["RECON_DAGSTER_STORAGE_URL"],
                                      "RECON_WAREHOUSE_URL": env["RECON_WAREHOUSE_URL"]})
    assert (DEPLOY / "dagster.yaml").read_text() == instance_yaml(settings)
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    assert config["storage"]["postgres"]["postgres_url"] == {"env": "RECON_DAGSTER_STORAGE_URL"}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_the_user_code_server_starts_on_the_compose_command_line(tmp_path):
    command = list(_compose()["services"]["user_code"]["command"])
    port = free_port()
    command[command.index("-p") + 1] = str(port)
    command[command.index("-h") + 1] = "127.0.0.1"
    env = recon_env(tmp_path / "home")
    log = open(tmp_path / "user_code.log", "wb")
    server = subprocess.Popen([str(BIN / command[0]), *command[1:]], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while True:
            check = subprocess.run([str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(port)],
                                   env=env, capture_output=True, text=True)
            if check.returncode == 0:
                break
            assert server.poll() is None, (tmp_path / "user_code.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the code server did not answer its health check"
            time.sleep(3)
    finally:
        server.terminate()
        server.wait(timeout=60)
