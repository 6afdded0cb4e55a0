"""On Postgres the portal reads the warehouse directly (the ``portal`` schema each build swaps
in, with indexes) and appends its access records to the audit log directly, no spool."""
from __future__ import annotations

import base64

from starlette.testclient import TestClient

from recon_pipeline.audit import read_audit_log
from recon_pipeline.audit.log import spool_dir
from recon_pipeline.portal.app import create_app
from recon_pipeline.portal.auth import hash_password
from recon_pipeline.portal.snapshot import publish_snapshot
from recon_pipeline.scenario.synthetic_marts import create_synthetic_marts
from recon_pipeline.settings import load_settings
from recon_pipeline.warehouse.connection import open_warehouse
from tests.e2e.test_postgres_warehouse import postgres_database  # noqa: F401  (fixture)


def test_portal_on_postgres_searches_the_warehouse_and_audits_directly(tmp_path, postgres_database):  # noqa: F811
    config = tmp_path / "recon.yaml"
    config.write_text(f"portal:\n  users:\n    auditor: '{hash_password('pw')}'\n", encoding="utf-8")
    settings = load_settings(config, environ={"RECON_HOME": str(tmp_path / "home"),
                                              "RECON_WAREHOUSE_URL": postgres_database})
    with open_warehouse(settings) as wh:
        create_synthetic_marts(wh, payments=300, bank_lines=300)
        publish_snapshot(wh, settings)
        publish_snapshot(wh, settings)  # a second publish swaps the schema again
        e2e, payment_id = wh.fetchone("select end_to_end_id, payment_id from marts.fct_payment_reconciliation "
                                      "where payment_id = 'PAY-000000123'")
        bank_reference, bank_line_id = wh.fetchone(
            "select bank_reference, bank_line_id from marts.fct_bank_line_reconciliation order by bank_line_id limit 1")
        exception_id = wh.fetchone("select min(exception_id) from marts.fct_exceptions")[0]

    auth = "Basic " + base64.b64encode(b"auditor:pw").decode()
    client = TestClient(create_app(settings), headers={"Authorization": auth})
    assert client.get("/").status_code == 200
    for q, expected in ((e2e.upper(), payment_id), (bank_reference, bank_line_id), ("counterparty 123 g", payment_id)):
        body = client.get("/search", params={"q": q}, headers={"Accept": "application/json"}).json()
        assert expected in {r["item_id"] for r in body["results"]}, q
    page = client.get(f"/exceptions/{exception_id}")
    assert page.status_code == 200 and 'id="our-record"' in page.text
    assert client.get("/dashboard").status_code == 200

    with open_warehouse(settings) as wh:
        searches = [r for r in read_audit_log(wh) if r.action == "portal.search"]
        indexed = wh.fetchone("select count(*) from pg_indexes where schemaname = 'portal'")[0]
    assert [r.subject for r in searches] == [e2e.upper(), bank_reference, "counterparty 123 g"]
    assert all(r.actor == "auditor" for r in searches)
    assert not spool_dir(settings.home).exists()  # appended directly, nothing queued
    assert indexed >= 9
