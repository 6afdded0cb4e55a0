"""The asset graph as the UI shows it (keys, dependencies with their partition mappings,
partitions, checks, jobs, sensors, schedules), compared with a committed snapshot, so any
change to the graph is a visible diff in review rather than a surprise in the UI.

After an intended change: RECON_UPDATE_SNAPSHOT=1 pytest tests/orchestration/test_asset_graph_snapshot.py
and commit asset_graph.snapshot.json with the change.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from dagster import IdentityPartitionMapping, TimeWindowPartitionMapping

SNAPSHOT = Path(__file__).with_name("asset_graph.snapshot.json")


def _mapping(mapping) -> str | None:
    if mapping is None or isinstance(mapping, IdentityPartitionMapping):
        return None
    if isinstance(mapping, TimeWindowPartitionMapping):
        if mapping.start_offset == mapping.end_offset == 0:
            return None
        return f"previous cycle ({mapping.start_offset}, {mapping.end_offset})"
    return type(mapping).__name__


def graph_snapshot(defs) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        partitions = node.partitions_def
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitions": None if partitions is None else {
                "first": partitions.get_first_partition_key(), "cron": partitions.get_cron_schedule(),
                "timezone": partitions.timezone},
            "deps": {parent.to_user_string(): _mapping(graph.get_partition_mapping(key, parent))
                     for parent in sorted(node.parent_keys)},
            "checks": sorted(k.name for k in node.check_keys),
            "executable": node.is_executable,
            "pools": sorted(node.pools or []),
        }
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        jobs[job.name] = {
            "partitioned": job.partitions_def is not None,
            "assets": sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys),
        }
    return {
        "assets": assets,
        "jobs": jobs,
        "sensors": sorted(s.name for s in defs.sensors),
        "schedules": sorted(s.name for s in defs.schedules),
    }


def test_the_asset_graph_matches_its_committed_snapshot(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("RECON_") and name != "RECON_UPDATE_SNAPSHOT":
            monkeypatch.delenv(name)
    monkeypatch.setenv("RECON_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "first_cycle").write_text("2026-11-09")    # as `recon run` records it
    from orchestration.definitions import build_definitions

    actual = graph_snapshot(build_definitions())
    if os.environ.get("RECON_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert actual == expected, "the asset graph changed: see the diff, and update the snapshot if intended"
