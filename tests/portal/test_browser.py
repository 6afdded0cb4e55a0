"""The portal in headless Chromium, as a finance user uses it: sign in, open a cycle, download
its close pack, search a payment by end-to-end id, open an exception side by side."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.portal.conftest import PASSWORD, USER, as_date


@pytest.fixture
def page(chromium, portal):
    context = chromium.new_context(http_credentials={"username": USER, "password": PASSWORD},
                                   viewport={"width": 1400, "height": 900}, accept_downloads=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_finance_user_opens_a_cycle_and_downloads_the_same_close_pack_as_on_disk(page, portal, screenshots):
    cycle = portal.cycles[-1]
    response = page.goto(portal.url + "/")
    assert response.status == 200
    assert page.locator(".user").inner_text().endswith(USER)
    page.screenshot(path=str(screenshots / "cycles.png"), full_page=True)

    page.click(f"#cycles a[href='/cycles/{cycle}']")
    page.wait_for_url(f"**/cycles/{cycle}")
    assert page.locator("h1").inner_text() == f"Pay cycle {cycle}"
    with portal.snapshot() as snap:
        accounts = snap.fetchall("select account_iban from portal.cycles where pay_cycle = ?", (as_date(cycle),))
    assert accounts and all(page.locator("#accounts", has_text=a[0]).count() == 1 for a in accounts)
    page.screenshot(path=str(screenshots / "cycle.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#close-pack")
    download = info.value
    assert download.suggested_filename == f"close_pack_{cycle}.xlsx"
    on_disk = portal.home.settings().close_pack_path(cycle).read_bytes()
    assert Path(download.path()).read_bytes() == on_disk


def test_search_finds_a_payment_by_end_to_end_id_in_any_cycle(page, portal, screenshots):
    with portal.snapshot() as snap:
        payment_id, e2e, cycle = snap.fetchone(
            "select payment_id, end_to_end_id, pay_cycle from portal.payments "
            "where end_to_end_id is not null and pay_cycle = ? order by payment_id limit 1",
            (as_date(portal.cycles[0]),))
    page.goto(portal.url + "/")
    page.fill("header input[name=q]", e2e.lower())  # case does not matter
    page.click("header button[type=submit]")
    page.wait_for_url("**/search?q=*")
    rows = page.locator("#results tbody tr")
    payment_rows = rows.filter(has_text=payment_id)
    assert payment_rows.count() == 1
    assert e2e in payment_rows.inner_text()
    page.screenshot(path=str(screenshots / "search.png"), full_page=True)


def test_an_exception_shows_our_record_and_the_bank_line_side_by_side(page, portal, screenshots):
    with portal.snapshot() as snap:
        exception_id, cycle, payment_id, bank_line_id = snap.fetchone(
            "select exception_id, pay_cycle, payment_id, bank_line_id from portal.exceptions "
            "where payment_id is not null and bank_line_id is not null order by pay_cycle desc, exception_id limit 1")
        bank_reference, bank_amount = snap.fetchone(
            "select bank_reference, amount from portal.bank_lines where bank_line_id = ? and pay_cycle <= ? "
            "order by pay_cycle desc limit 1", (bank_line_id, cycle))
    page.goto(f"{portal.url}/cycles/{cycle}")
    page.click(f"#exceptions a[href='/exceptions/{exception_id}']")
    page.wait_for_url(f"**/exceptions/{exception_id}")
    ours, bank = page.locator("#our-record"), page.locator("#bank-line")
    assert payment_id in ours.inner_text()
    assert bank_reference in bank.inner_text()
    assert f"{abs(bank_amount):,.2f}" in bank.inner_text()
    ours_box, bank_box = ours.bounding_box(), bank.bounding_box()
    assert ours_box["x"] + ours_box["width"] <= bank_box["x"]  # side by side, ours on the left
    assert abs(ours_box["y"] - bank_box["y"]) < 5
    assert page.locator("#history tbody tr").count() >= 1
    page.screenshot(path=str(screenshots / "exception.png"), full_page=True)


def test_dashboard_charts_match_rate_exposure_and_open_exceptions(page, portal, screenshots):
    page.goto(portal.url + "/dashboard")
    charts = page.locator("svg.chart")
    assert charts.count() == 3
    assert page.locator("#trend tbody tr").count() == len(portal.cycles)
    # One point per cycle on the match-rate and open-exception lines.
    assert charts.nth(0).locator("circle").count() == len(portal.cycles)
    assert charts.nth(1).locator("circle").count() == len(portal.cycles)
    page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)


@pytest.mark.parametrize("credentials", [None, {"username": USER, "password": PASSWORD + "!"},
                                         {"username": "intruder", "password": PASSWORD}],
                         ids=["no credentials", "wrong password", "unknown user"])
def test_the_browser_is_refused_without_valid_credentials(chromium, portal, credentials):
    context = chromium.new_context(http_credentials=credentials) if credentials else chromium.new_context()
    try:
        for path in ("/", f"/cycles/{portal.cycles[-1]}", f"/cycles/{portal.cycles[-1]}/close-pack", "/search?q=PAY"):
            page = context.new_page()
            # Headless Chromium has no password dialog: a refused challenge ends the navigation
            # with ERR_INVALID_AUTH_CREDENTIALS, or shows the 401 page; never a portal page.
            try:
                response = page.goto(portal.url + path)
            except PlaywrightError as exc:
                assert "ERR_INVALID_AUTH_CREDENTIALS" in str(exc), exc
            else:
                assert response.status == 401, path
                assert "Signed in" not in page.content()
            page.close()
            # The same browser context's own requests get the 401 itself.
            assert context.request.get(portal.url + path).status == 401, path
    finally:
        context.close()
