"""The pages added with the admin API, webhooks, trials and usage, under the console's
strict Content-Security-Policy in Chromium: no console error (a CSP violation is one)
on the API keys, Webhooks, alert emails, trial lists, usage and a customer pane with an
agent waiting for approval."""

import pytest
from django.urls import reverse

from clients import pending
from clients import services as client_services
from hierarchy import memberships, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Settings-Walk-2026"


def test_the_new_pages_show_without_a_console_error(live_server, browser_page):
    from playwright.sync_api import expect

    reseller = services.create_reseller(None, name="HEROware", acting_user=None, origin="test")
    memberships.add_reseller_admin(
        reseller, username="ada", password=PASSWORD, acting_user=None, origin="test"
    )
    customer = services.create_customer(
        reseller, name="Dental", contact_email="it@dental.example", acting_user=None, origin="t"
    )
    client_services.create_client(
        customer, securecloud_id="pc@dental.example", password="Pc-pass-2026", acting_user=None,
        origin="test",
    )  # fmt: skip
    pending.record_attempt(
        customer,
        securecloud_id="laptop@dental.example",
        password="Laptop-pass-2026",
        hostname="LAPTOP-7",
        agent_version="5.2.0",
        address="198.51.100.7",
        origin="test",
    )
    page = browser_page
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("tree")).to_be_visible()
    pages = [
        reverse("api-keys", args=[reseller.code]),
        reverse("webhooks", args=[reseller.code]),
        reverse("account-alerts"),
        reverse("health-list", args=[reseller.code, "trials-ending"]),
        reverse("health-list", args=[reseller.code, "expired-trials"]),
        reverse("reseller-usage", args=[reseller.code]),
        reverse("customer-pane", args=[customer.code]),
        reverse("reseller-pane", args=[reseller.code]),
    ]
    for path in pages:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.console_errors == [], path
    # The reseller pane's usage section loads from its own page afterwards; the pane keeps
    # its own title (the section's page has another).
    page.goto(live_server.url + reverse("reseller-pane", args=[reseller.code]))
    expect(
        page.get_by_role("heading", name="Storage and paid clients over the last 12 months")
    ).to_be_visible()
    assert page.title().startswith("List of Customers · HEROware"), page.title()
    page.goto(live_server.url + reverse("customer-pane", args=[customer.code]))
    expect(page.get_by_role("rowheader", name="laptop@dental.example")).to_be_visible()
    expect(page.get_by_role("button", name="Approve laptop@dental.example")).to_be_visible()
    assert page.console_errors == []
