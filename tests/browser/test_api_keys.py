"""The admin API in the browser: an Administrator creates a key on the API keys page
(Reseller Admin menu), copies it from the page, and the key works against the API; the
API's documentation page renders from local files with no console error (its CSP is
the console's own, strict one)."""

import re

import pytest

from hierarchy import memberships, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Api-Keys-Walk-2026"


@pytest.fixture
def alpha(db):
    reseller = services.create_reseller(None, name="Alpha Backup", acting_user=None, origin="test")
    memberships.add_reseller_admin(
        reseller, username="ada", password=PASSWORD, acting_user=None, origin="test"
    )
    return reseller


def test_an_administrator_creates_a_key_that_the_api_accepts(live_server, alpha, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Reseller Admin").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name=re.compile("API keys of Alpha Backup"))).to_be_visible()
    page.get_by_label("Name").fill("HaloPSA")
    page.get_by_label("Role").select_option("technician")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_be_visible()
    key = page.get_by_label("The key").input_value()
    assert key.startswith("sck_")

    answer = page.request.get(
        live_server.url + "/api/v1/admin/customers", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status == 200
    assert answer.json()["results"] == []

    page.goto(page.url)  # a GET of the page: the key is not shown again
    expect(page.get_by_role("cell", name="HaloPSA", exact=True)).to_be_visible()
    assert key not in page.content()
    assert page.console_errors == []


def test_the_documentation_page_renders_without_a_cdn(live_server, alpha, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    outside = []
    page.on(
        "request",
        lambda request: (
            not request.url.startswith((live_server.url, "data:")) and outside.append(request.url)
        ),
    )
    page.goto(live_server.url + "/api/v1/admin/docs")
    expect(page.get_by_text("SecureCloud Console admin API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/admin/customers").first).to_be_visible()
    assert outside == []
    assert page.console_errors == []
