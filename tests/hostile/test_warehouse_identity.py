"""A warehouse deleted or replaced under a home is refused with one line, never recreated
empty (issue #11 item 3); a fresh home still starts by itself. Real DuckDB files, real CLI."""
from __future__ import annotations

import dataclasses
import shutil

import pytest

from recon_pipeline.warehouse.connection import WarehouseUnavailable, open_warehouse
from recon_pipeline.warehouse.load_statements import load_statement_files
from tests.e2e.conftest import make_home
from tests.hostile.conftest import camt053, land


def test_a_fresh_home_records_its_warehouse_and_reopens_it(home, landing):
    with open_warehouse(home) as wh:
        land(landing, "statements", "s.xml", camt053([("5.00", "CRDT", "R1", None)]))
        load_statement_files(wh, landing)
    with open_warehouse(home) as wh:
        assert wh.fetchone("select count(*) from raw.statement_lines")[0] == 1
    assert (home.home / "warehouse_id.json").is_file()


def test_a_deleted_warehouse_is_refused_not_recreated_empty(home, landing, tmp_path):
    with open_warehouse(home) as wh:
        land(landing, "statements", "s.xml", camt053([("5.00", "CRDT", "R1", None)]))
        load_statement_files(wh, landing)
    home.duckdb_path.unlink()

    with pytest.raises(WarehouseUnavailable) as caught:
        open_warehouse(home)
    assert "is missing" in str(caught.value) and "\n" not in str(caught.value)
    assert not home.duckdb_path.exists()                       # not silently recreated

    recon = make_home(tmp_path)
    recon.env["RECON_HOME"] = str(home.home)
    proc = recon.run("run", "--through", "2026-11-10", check=False)
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1 and "is missing" in proc.stderr
    assert not home.duckdb_path.exists()


def test_a_warehouse_swapped_for_another_homes_is_refused(home, landing, tmp_path):
    with open_warehouse(home):
        pass
    other = tmp_path / "other.duckdb"
    with open_warehouse(dataclasses.replace(home, home=tmp_path / "other_home")) as wh:
        wh.execute("checkpoint")
        source = wh.target
    shutil.copy(source, other)
    shutil.copy(other, home.duckdb_path)

    with pytest.raises(WarehouseUnavailable) as caught:
        open_warehouse(home)
    assert "was replaced" in str(caught.value)
