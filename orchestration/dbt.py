"""Dagster's view of the dbt project: the cached ``DbtProject`` and the dbt CLI resource.

Where the project lives, how dbt reaches the warehouse and how the manifest is built are the
domain's (recon_pipeline/dbt_setup.py); this module only hands them to dagster-dbt.
"""
from __future__ import annotations

from importlib.metadata import version as package_version

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from recon_pipeline.dbt_setup import DBT_PROJECT_DIR, dbt_run_executable

recon_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class _ReconDbtCliResource(DbtCliResource):
    @property
    def _cli_version(self):  # type: ignore[override]
        return version.parse(package_version("dbt-core"))


def recon_dbt_resource() -> DbtCliResource:
    """A DbtCliResource that knows dbt's version without running ``dbt --version``.

    dagster-dbt asks the executable for its version on every run, which costs a full dbt
    start-up (about 5 s on a small machine) per pay cycle; dbt-core is installed in this
    very environment, so its package metadata answers the same question instantly.
    """
    return _ReconDbtCliResource(project_dir=recon_dbt_project, dbt_executable=dbt_run_executable())
