"""The `recon` command's contract: one-line reasons and non-zero exits when it cannot run."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess

from orchestration.cli import build_parser
from tests.clock import past_monday
from tests.e2e.conftest import RECON, make_home
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


def test_run_of_a_date_with_no_pay_cycle_partition_says_so_in_one_line(tmp_path):
    # With a 00:00 cut-off in UTC, tomorrow's cycle has not opened: Dagster has no partition for it.
    home = make_home(tmp_path)
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    proc = home.run("run", "--cycle", tomorrow.isoformat(), check=False)
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1 and "not a pay-cycle partition" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_a_decision_without_a_warehouse_says_so_and_creates_nothing(tmp_path):
    home = make_home(tmp_path)
    del home.env["RECON_HOME"]                  # the default home: ./recon_home under the working dir
    proc = subprocess.run([RECON, "resolve", "EXC-1", "--action", "accept", "--reason", "ok", "--by", "alice"],
                          env=home.env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "no warehouse" in proc.stderr, proc.stderr
    assert not (tmp_path / "recon_home").exists()


def test_every_subcommand_and_option_explains_itself():
    """A newcomer's `recon COMMAND --help` shows what the command does and what each option means."""
    parser = build_parser()
    missing = []

    def walk(p: argparse.ArgumentParser, name: str) -> None:
        if not p.description:
            missing.append(f"{name}: no description")
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if not choice.help:
                        missing.append(f"{name} {choice.dest}: no summary")
                for sub_name, sub in action.choices.items():
                    walk(sub, f"{name} {sub_name}")
            elif not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}: no help")

    walk(parser, "recon")
    assert not missing, missing
