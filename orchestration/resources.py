"""The resources every recon asset receives, declared once (orchestration/definitions.py).

``recon``: the settings the definitions were built with and the warehouse they name. Assets
take it as a parameter instead of reading recon.yaml in their bodies, so a run uses exactly
the settings its definitions were built from (``recon run`` passes its own, the code server
reads them once when it loads), and a test hands an asset its settings directly.
dbt needs no resource: a cycle's build runs dbt in the step's process
(orchestration/dbt_in_process.py).
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from dagster import ResourceDefinition

from recon_pipeline.settings import Settings
from recon_pipeline.warehouse.connection import Warehouse, open_warehouse

RECON = "recon"


@dataclass(frozen=True)
class Recon:
    """Settings and the warehouse, as assets see them."""

    settings: Settings

    def warehouse(self, read_only: bool = False) -> AbstractContextManager[Warehouse]:
        return open_warehouse(self.settings, read_only=read_only)


def recon_resource(settings: Settings) -> ResourceDefinition:
    return ResourceDefinition.hardcoded_resource(
        Recon(settings), description="recon's settings (recon.yaml and RECON_* variables) and its warehouse")


def recon_resources(settings: Settings) -> dict[str, object]:
    """Every resource the recon assets need, for these settings."""
    return {RECON: recon_resource(settings)}
