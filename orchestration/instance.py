"""The Dagster instance recon runs against: where it stores runs, and how many may run at once.

``recon run``, ``make ui`` (``recon prepare --instance``) and the deploy (deploy/dagster.yaml)
use the same instance configuration, written from the settings:

- storage: SQLite files in ``$RECON_HOME/dagster`` by default; with
  ``RECON_DAGSTER_STORAGE_URL`` (a postgresql:// URL) runs, event logs and schedules live in
  Postgres through dagster-postgres, so a webserver, a daemon and code servers on several
  machines share one instance. The file names the environment variable, never the password.
- the queued run coordinator: runs wait in a queue the daemon (or ``dagster dev``) drains.
- concurrency: every pay-cycle step is in the ``recon_cycles`` pool and every ingestion step in
  ``recon_ingestion``, one slot each. Cycles go one at a time (a cycle starts from what the
  previous one left open, and each cycle rebuilds the intermediate tables whole); ingestion
  goes beside them. On DuckDB the file has one writer, so the queue also launches one run at
  a time; on Postgres several runs may be in flight and the pools keep them apart.

This module writes YAML text only: the command line writes the file without loading Dagster.
"""
from __future__ import annotations

import os

from recon_pipeline.settings import Settings

MANAGED_MARKER = "# Written by recon"

CYCLES_POOL = "recon_cycles"
INGESTION_POOL = "recon_ingestion"

# Runs the queue launches at once when the warehouse is Postgres: enough for a backfill's
# cycles to wait on their pool while sensors' ingestion runs go beside them.
POSTGRES_MAX_CONCURRENT_RUNS = 8


def instance_yaml(settings: Settings) -> str:
    """The instance's dagster.yaml for these settings (the first line marks it as recon's)."""
    lines = [
        f"{MANAGED_MARKER} from RECON_DAGSTER_STORAGE_URL and RECON_WAREHOUSE_URL; rewritten when",
        "# they change. Delete the first line to manage this file yourself.",
    ]
    if settings.dagster_storage_url:
        lines += [
            "storage:",
            "  postgres:",
            "    postgres_url:",
            "      env: RECON_DAGSTER_STORAGE_URL",
        ]
    if settings.uses_postgres:
        runs = f"    max_concurrent_runs: {POSTGRES_MAX_CONCURRENT_RUNS}"
    else:
        runs = "    max_concurrent_runs: 1  # the DuckDB warehouse has one writer"
    lines += [
        "run_coordinator:",
        "  module: dagster.core.run_coordinator",
        "  class: QueuedRunCoordinator",
        "concurrency:",
        "  runs:",
        runs,
        f"  # {CYCLES_POOL}: one pay cycle at a time, in order; {INGESTION_POOL}: loads beside them.",
        "  pools:",
        "    default_limit: 1",
        "# A run stuck STARTING is failed by run monitoring; one whose process died once STARTED (a",
        "# restarted machine, a killed worker) by recon's dead_run_sensor (the default launcher has no",
        "# worker health check). A run that failed that way (not on a step) is retried once: a cycle",
        "# build is idempotent, so going again gives the same result.",
        "run_monitoring:",
        "  enabled: true",
        "  start_timeout_seconds: 300",
        "run_retries:",
        "  enabled: true",
        "  max_retries: 1",
        "  retry_on_asset_or_op_failure: false",
        "telemetry:",
        "  enabled: false",
    ]
    return "\n".join(lines) + "\n"


def prepare_instance(settings: Settings) -> None:
    """Point Dagster at ``$RECON_HOME/dagster`` and (re)write its dagster.yaml.

    A dagster.yaml without recon's first line is the operator's own and is left alone.
    """
    settings.ensure_dirs()
    config = settings.dagster_home / "dagster.yaml"
    wanted = instance_yaml(settings)
    try:
        current = config.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    if current is None or (current.startswith(MANAGED_MARKER) and current != wanted):
        config.write_text(wanted, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    os.environ["RECON_HOME"] = str(settings.home)
