"""The `recon` command's contract: one-line reasons and non-zero exits when it cannot run."""
from __future__ import annotations

import datetime as dt
import json

from tests.clock import past_monday
from tests.e2e.conftest import make_home
from tests.statements.conftest import shared_statements_dir

SHARED = shared_statements_dir()


def test_inspect_json_prints_the_contract_shape(tmp_path):
    home = make_home(tmp_path)
    proc = home.run("inspect", str(SHARED / "camt053" / "genkgo_camt053_v2_multi_statement.xml"), "--json")
    report = json.loads(proc.stdout)
    assert report["format"].startswith("camt.053")
    assert [set(s) for s in report["statements"]] == [
        {"account", "currency", "opening_balance", "closing_balance", "entries", "movements", "balanced"}] * 2


def test_inspect_of_garbage_exits_nonzero_with_one_line(tmp_path):
    home = make_home(tmp_path)
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"\x00\x01\x02 not a statement")
    proc = home.run("inspect", str(garbage), check=False)
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1


def test_run_with_an_unreachable_warehouse_fails_with_one_line(tmp_path):
    home = make_home(tmp_path)
    home.env["RECON_WAREHOUSE_URL"] = "postgresql://postgres@127.0.0.1:1/recon"
    proc = home.run("run", "--through", past_monday().isoformat(), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("recon:") and len(proc.stderr.strip().splitlines()) == 1


def test_run_of_a_future_cycle_is_refused_with_a_reason(tmp_path):
    home = make_home(tmp_path)
    proc = home.run("run", "--cycle", (dt.date.today() + dt.timedelta(days=30)).isoformat(), check=False)
    assert proc.returncode == 1 and "future" in proc.stderr
