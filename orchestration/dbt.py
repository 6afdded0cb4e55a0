"""Dagster's view of the dbt project: the cached ``DbtProject`` the dbt assets are built from.

Where the project lives, how dbt reaches the warehouse and how the manifest is built are the
domain's (recon_pipeline/dbt_setup.py); how a cycle's build runs is orchestration/dbt_in_process.py.
"""
from __future__ import annotations

from dagster_dbt import DbtProject

from recon_pipeline.dbt_setup import DBT_PROJECT_DIR

recon_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
