"""The portal over plain HTTP, as a script uses it: HTTP Basic, read-only, JSON search, security
headers, and every download and search in the audit trail with the user."""
from __future__ import annotations

import hashlib
import json
import uuid

from recon_pipeline.audit import drain_spool, read_audit_log, verify_chain
from recon_pipeline.warehouse.connection import open_warehouse
from tests.portal.conftest import PASSWORD, USER

PAGES = ["/", "/dashboard", "/search?q=PAY", "/cycles/{cycle}", "/cycles/{cycle}/close-pack"]


def test_every_route_requires_a_password_and_accepts_http_basic(portal):
    cycle = portal.cycles[-1]
    for path in (p.format(cycle=cycle) for p in PAGES):
        refused = portal.get(path, auth=None)
        assert refused.status_code == 401, path
        assert refused.headers["www-authenticate"].startswith("Basic ")
        assert portal.get(path, auth=(USER, "wrong")).status_code == 401, path
        assert portal.get(path).status_code == 200, path


def test_the_portal_is_read_only(portal):
    import httpx

    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = httpx.request(method, portal.url + "/", auth=(USER, PASSWORD), timeout=30)
        assert response.status_code == 405, method


def test_pages_carry_security_headers_and_are_never_cached(portal):
    for response in (portal.get("/"), portal.get("/", auth=None)):
        headers = response.headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"


def test_search_answers_json_for_scripts_with_every_kind_of_key(portal):
    with portal.snapshot() as snap:
        line = snap.fetch_dicts("select * from portal.bank_lines where bank_reference is not null "
                                "and counterparty_name is not null order by bank_line_id limit 1")[0]
    for q in (line["bank_reference"], f"{abs(line['amount']):,.2f}", line["counterparty_name"][:6].upper()):
        response = portal.get("/search", params={"q": q}, headers={"Accept": "application/json"})
        assert response.status_code == 200
        body = response.json()
        assert body["query"] == q.strip()                    # the query as searched: outer spaces dropped
        assert line["bank_line_id"] in {r["item_id"] for r in body["results"]}, q
    hit = next(r for r in body["results"] if r["item_id"] == line["bank_line_id"])
    assert hit["kind"] == "bank_line" and hit["bank_reference"] == line["bank_reference"]


def test_unknown_exception_and_cycle_answer_404(portal):
    assert portal.get("/exceptions/ex_does_not_exist").status_code == 404
    assert portal.get("/cycles/1999-01-01").status_code == 404
    assert portal.get("/cycles/../../etc/passwd/close-pack").status_code == 404


def test_downloads_and_searches_are_in_the_audit_trail_with_the_user(portal):
    cycle = portal.cycles[0]
    query = f"audit-probe-{uuid.uuid4().hex[:8]}"
    pack = portal.get(f"/cycles/{cycle}/close-pack")
    assert pack.status_code == 200
    assert portal.get("/search", params={"q": query}).status_code == 200

    settings = portal.home.settings()
    with open_warehouse(settings) as wh:  # what the next build's portal_snapshot step does first
        drain_spool(wh, settings.home)
        records = list(read_audit_log(wh))
    downloads = [r for r in records if r.action == "portal.download" and r.subject == cycle]
    searches = [r for r in records if r.action == "portal.search" and r.subject == query]
    assert downloads and searches
    assert all(r.actor == USER for r in downloads + searches)
    assert any(json.loads(r.details)["sha256"] == hashlib.sha256(pack.content).hexdigest() for r in downloads)
    count, broken = verify_chain(records)
    assert broken is None and count == len(records)


def test_the_server_log_never_holds_a_password_or_the_authorization_header(portal):
    import base64

    assert portal.get("/", auth=(USER, "a-wrong-password")).status_code == 401
    assert portal.get("/").status_code == 200
    log = portal.log.read_text(encoding="utf-8")
    assert "GET / HTTP/1.1" in log  # the access log is there, requests are logged
    for secret in (PASSWORD, "a-wrong-password", base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()):
        assert secret not in log
