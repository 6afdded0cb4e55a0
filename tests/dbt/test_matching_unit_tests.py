"""The dbt unit tests of the matching models, run through pytest (issue 5: a dbt unit test for
every rule and every cardinality).

The unit tests themselves live in the yml beside the model each tests
(``dbt_project/models/<layer>/<model>.yml``, conventions in ``models/intermediate/README.md``).
This module runs them with dbt against a throwaway DuckDB warehouse and reports each one as a
pytest item, so a failure names the behaviour and shows dbt's diff. It also checks the YAML:
every enabled rule of ``seeds/matching_rules.csv`` must be demonstrated by a unit test (a new
rule without one fails the suite), the rules fixture must be the seed itself, and every
cardinality (1:1, 1:N, N:1, return, duplicate) must be covered.

Unit tests tagged ``known_model_bug`` describe behaviour the models get wrong today; they are
strict xfails, so fixing the model turns them into failures until the tag is removed.
"""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO / "dbt_project"
MODELS_DIR = PROJECT_DIR / "models"
# Every model yml holding unit tests: the matching stages' and the other models' (CONTRACT §6),
# run in one dbt invocation.
UNIT_TEST_YMLS = sorted(p for p in MODELS_DIR.rglob("*.yml")
                        if "unit_tests" in (yaml.safe_load(p.read_text(encoding="utf-8")) or {}))
RULES_CSV = PROJECT_DIR / "seeds" / "matching_rules.csv"
RULES_FIXTURE = PROJECT_DIR / "tests" / "fixtures" / "matching_rules_seed.csv"
KNOWN_BUG_TAG = "known_model_bug"
DBT = Path(sys.executable).with_name("dbt")
DBT_TIMEOUT_SECONDS = 600

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ----- the YAML ---------------------------------------------------------------------------
def _load_unit_tests() -> list[dict[str, Any]]:
    tests = []
    for path in UNIT_TEST_YMLS:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        tests.extend(doc.get("unit_tests") or [])
    return tests


def _tags(test: dict[str, Any]) -> list[str]:
    tags = (test.get("config") or {}).get("tags") or []
    return [tags] if isinstance(tags, str) else list(tags)


def _is_known_bug(test: dict[str, Any]) -> bool:
    return KNOWN_BUG_TAG in _tags(test)


def _expect_rows(test: dict[str, Any]) -> list[dict[str, Any]]:
    return list((test.get("expect") or {}).get("rows") or [])


UNIT_TESTS = _load_unit_tests()
WORKING_TESTS = [t for t in UNIT_TESTS if not _is_known_bug(t)]


def _enabled_rules() -> list[dict[str, str]]:
    with RULES_CSV.open(newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["enabled"].strip().lower() == "true"]


# ----- running dbt ------------------------------------------------------------------------
def _run_dbt(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DBT), *args], cwd=cwd, env=env, text=True, capture_output=True,
        timeout=DBT_TIMEOUT_SECONDS, check=False)


def _tail(text: str, lines: int = 80) -> str:
    return "\n".join(_ANSI.sub("", text).splitlines()[-lines:])


class _Results(dict):
    """Unit test name -> {status, message}; a short repr keeps pytest's failure reports readable."""

    def __repr__(self) -> str:
        return f"<{len(self)} dbt unit test results>"


@pytest.fixture(scope="module")
def unit_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Run every unit test of the YAML once; unit test name -> {status, message}."""
    from recon_pipeline.settings import load_settings
    from recon_pipeline.warehouse.connection import open_warehouse
    from recon_pipeline.warehouse.source_tables import ensure_source_tables

    assert DBT.exists(), f"dbt is not installed next to {sys.executable}"
    tmp = tmp_path_factory.mktemp("dbt_unit")
    config = tmp / "recon.yaml"
    config.write_text("{}\n", encoding="utf-8")   # an explicit, empty config: embedded DuckDB
    settings = load_settings(config, environ={"RECON_HOME": str(tmp)})
    assert not settings.uses_postgres
    with open_warehouse(settings) as wh:   # the raw/ops sources the staging models read
        ensure_source_tables(wh)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_PG_", "DBT_"))}
    env.update({
        "RECON_HOME": str(tmp),
        "RECON_DBT_TARGET": "duckdb",
        "RECON_DUCKDB_PATH": str(settings.duckdb_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    })
    common = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
              "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
              "--no-use-colors"]

    # Every relation the tested models and their inputs need must exist for dbt to infer
    # the fixtures' column types: build the tested models and their ancestors, seeds
    # included, on empty data.
    models = sorted({t["model"] for t in UNIT_TESTS})
    build = _run_dbt(["build", "--empty", "--resource-type", "seed", "--resource-type", "model",
                      "--select", " ".join(f"+{m}" for m in models), *common], env, tmp)
    if build.returncode != 0:
        pytest.fail(f"dbt build --empty of the tested models failed:\n{_tail(build.stdout + build.stderr)}")

    selected = [f"test_type:unit,path:{path.relative_to(PROJECT_DIR).as_posix()}" for path in UNIT_TEST_YMLS]
    run = _run_dbt(["test", "--select", *selected, *common], env, tmp)
    results_file = tmp / "target" / "run_results.json"
    if not results_file.exists():
        pytest.fail(f"dbt test did not run the unit tests:\n{_tail(run.stdout + run.stderr)}")
    results = _Results()
    for r in json.loads(results_file.read_text(encoding="utf-8"))["results"]:
        if r["unique_id"].startswith("unit_test."):
            name = r["unique_id"].rsplit(".", 1)[-1]
            results[name] = {"status": r["status"], "message": _ANSI.sub("", r.get("message") or "")}
    if not results:
        pytest.fail(f"dbt ran no unit tests:\n{_tail(run.stdout + run.stderr)}")

    broken = sorted(n for n, r in results.items()
                    if r["status"] != "pass" and n in {t["name"] for t in WORKING_TESTS})
    if broken:   # shown with the failing items (-ra / -rA)
        print("failing dbt unit tests: " + ", ".join(broken))
        print(_tail(run.stdout, 200))
    return results


def _params() -> list[Any]:
    params = []
    for t in UNIT_TESTS:
        marks = []
        if _is_known_bug(t):
            reason = " ".join(str(t.get("description") or "known model bug").split())
            marks.append(pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason[:300]))
        params.append(pytest.param(t["name"], id=t["name"], marks=marks))
    return params


@pytest.mark.timeout(DBT_TIMEOUT_SECONDS * 2)
@pytest.mark.parametrize("name", _params())
def test_dbt_unit_test(name: str, unit_results: dict[str, dict[str, Any]]) -> None:
    result = unit_results.get(name)
    if result is None:
        pytest.fail(f"dbt did not run unit test {name} (see the dbt output above)")
    if result["status"] == "error":
        # not an expectation mismatch: the test itself could not run (so never xfail)
        pytest.fail(f"dbt unit test {name} could not run:\n{result['message']}")
    assert result["status"] == "pass", f"dbt unit test {name} failed:\n{result['message']}"


# ----- coverage of the YAML ---------------------------------------------------------------
def _is_stage_test(test: dict[str, Any]) -> bool:
    """A test of a matching stage (which applies the rules), not of the union downstream,
    whose rule ids are only given as input rows."""
    return test["model"].startswith("int_links_") and test["model"] != "int_links_current"


def test_every_enabled_rule_has_a_unit_test() -> None:
    """A rule is covered when a (working) unit test of a matching stage expects a link made by it."""
    demonstrated = defaultdict(list)
    for t in WORKING_TESTS:
        if not _is_stage_test(t):
            continue
        for row in _expect_rows(t):
            if row.get("rule_id"):
                demonstrated[row["rule_id"]].append(t["name"])
    missing = [r["rule_id"] for r in _enabled_rules() if r["rule_id"] not in demonstrated]
    assert not missing, (
        f"enabled matching rules without a dbt unit test expecting a link by them: {missing}; "
        f"add one to the yml of the matching stage that applies the rule (models/intermediate/int_links_*.yml)")


def test_matching_rules_fixture_is_the_seed() -> None:
    """Every unit test that gives matching_rules reads the real seed, so the rules live once.

    dbt cannot take the seed itself as a fixture (a dict fixture read from a seed keeps empty
    cells as '' and fails the decimal cast); a csv fixture turns empty cells into nulls, so
    tests/fixtures/matching_rules_seed.csv is a link to seeds/matching_rules.csv, not a copy.
    """
    assert RULES_FIXTURE.resolve() == RULES_CSV.resolve(), (
        f"{RULES_FIXTURE} must be a link to {RULES_CSV}, not a copy of it")
    givens = [(t["name"], given) for t in UNIT_TESTS for given in t.get("given") or []
              if given.get("input", "").replace('"', "'") == "ref('matching_rules')"]
    assert givens, "no unit test gives matching_rules"
    for test_name, given in givens:
        assert (given.get("format"), given.get("fixture"), given.get("rows")) == (
            "csv", RULES_FIXTURE.stem, None), (
            f"{test_name}: give ref('matching_rules') as `format: csv, fixture: {RULES_FIXTURE.stem}` "
            f"(the seed), not as rows")


def _cardinalities(test: dict[str, Any]) -> set[str]:
    found = set()
    if any(r.get("exception_type") == "duplicate_booking" for r in _expect_rows(test)):
        found.add("duplicate")
    if not _is_stage_test(test):
        return found
    rows = [r for r in _expect_rows(test) if r.get("payment_id") and r.get("bank_line_id")]
    by_match = defaultdict(list)
    for r in rows:
        if r.get("match_id"):
            by_match[r["match_id"]].append(r)
    for group in by_match.values():
        payments = {r["payment_id"] for r in group}
        lines = {r["bank_line_id"] for r in group}
        if len(lines) == 1 and len(payments) >= 2:
            found.add("1:N")
        if len(payments) == 1 and len(lines) >= 2:
            found.add("N:1")
    links = [r for r in rows if r.get("rule_id") and r.get("link_status", "matched") == "matched"]
    per_payment = defaultdict(set)
    per_line = defaultdict(set)
    for r in links:
        per_payment[r["payment_id"]].add(r["bank_line_id"])
        per_line[r["bank_line_id"]].add(r["payment_id"])
    if any(len(per_payment[r["payment_id"]]) == 1 and len(per_line[r["bank_line_id"]]) == 1
           and r["rule_id"].startswith(("R1", "R4")) for r in links):
        found.add("1:1")
    if test["model"] == "int_links_return" and any(r["rule_id"].startswith("R50") for r in links):
        found.add("return")
    return found


def test_every_cardinality_is_covered() -> None:
    covered = defaultdict(list)
    for t in WORKING_TESTS:
        for cardinality in _cardinalities(t):
            covered[cardinality].append(t["name"])
    missing = [c for c in ("1:1", "1:N", "N:1", "return", "duplicate") if c not in covered]
    assert not missing, f"cardinalities without a dbt unit test in models/intermediate/*.yml: {missing}"


def test_unit_test_names_are_unique() -> None:
    names = [t["name"] for t in UNIT_TESTS]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
