"""The portal keeps answering while `recon run` rebuilds a cycle, and never blocks the build:
it reads the published snapshot, not the warehouse the build holds."""
from __future__ import annotations

import subprocess
import time
import uuid

from recon_pipeline.audit import read_audit_log
from recon_pipeline.portal.snapshot import current_snapshot
from recon_pipeline.warehouse.connection import open_warehouse
from tests.portal.conftest import RECON, USER


def test_portal_answers_during_a_cycle_rebuild_and_the_rebuild_succeeds(portal):
    settings = portal.home.settings()
    cycle = portal.cycles[-1]
    before = current_snapshot(settings)
    query = f"during-rebuild-{uuid.uuid4().hex[:8]}"

    build = subprocess.Popen([RECON, "run", "--cycle", cycle], env=portal.home.env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    answers, failures = 0, []
    try:
        while build.poll() is None:
            for path in ("/", f"/cycles/{cycle}", f"/search?q={query}"):
                started = time.monotonic()
                response = portal.get(path)
                if response.status_code != 200 or time.monotonic() - started > 10:
                    failures.append((path, response.status_code, round(time.monotonic() - started, 1)))
                answers += 1
            time.sleep(0.5)
        output = build.communicate(timeout=600)[0]
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 0, output[-3000:]
    assert f"cycle {cycle}" in output
    assert not failures, failures
    assert answers >= 9, "the rebuild ended before the portal was asked anything"

    # The rebuild published a new snapshot, and appended the searches made during it.
    after = current_snapshot(settings)
    assert after is not None and after != before
    assert portal.get(f"/cycles/{cycle}").status_code == 200
    with open_warehouse(settings, read_only=True) as wh:
        logged = [r for r in read_audit_log(wh) if r.action == "portal.search" and r.subject == query]
    assert logged and all(r.actor == USER for r in logged)
