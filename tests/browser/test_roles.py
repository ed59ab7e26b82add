"""Roles in the browser: a Technician adds a client through the console, and a form it
posts works again from its own session; a Read-only admin sees no Add button, and the
same POST from its session (with its own valid CSRF token) is refused with 403 and
changes nothing."""

import re
from urllib.parse import parse_qsl

import pytest
from django.core import mail

from clients.models import Client
from hierarchy import memberships, services
from tests.browser.conftest import ConsoleErrors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Roles-Walk-2026"


@pytest.fixture
def alpha(db):
    reseller = services.create_reseller(None, name="Alpha Backup", acting_user=None, origin="test")
    customer = services.create_customer(
        reseller,
        name="Acme",
        contact_email="it@acme.example",
        auto_add_clients=True,
        acting_user=None,
        origin="test",
    )
    for username, role in (("tina", "technician"), ("rita", "read_only")):
        memberships.add_reseller_admin(
            reseller,
            username=username,
            email=f"{username}@alpha.example",
            password=PASSWORD,
            role=role,
            acting_user=None,
            origin="test",
        )
    return reseller, customer


def sign_in(page, live_server, username):
    from playwright.sync_api import expect

    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Alpha Backup"))).to_be_visible()


def csrf_token(page) -> str:
    return page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")


def test_a_technician_adds_clients_and_a_read_only_admin_cannot(
    live_server, alpha, chromium, browser_page
):
    from playwright.sync_api import expect

    reseller, customer = alpha
    customer_url = f"{live_server.url}/customers/{customer.code}/"

    # The Technician adds a client through the console.
    tech = browser_page
    sign_in(tech, live_server, "tina")
    tech.goto(customer_url)
    tech.get_by_role("link", name="Add New Client").click()
    tech.get_by_label("SecureCloud ID").fill("laptop@acme.example")
    with tech.expect_request(re.compile(r"/clients/new/$")) as sent:
        tech.get_by_role("button", name="Save").click()
    expect(tech.get_by_role("heading", name=re.compile("laptop@acme.example"))).to_be_visible()
    form = dict(parse_qsl(sent.value.post_data, keep_blank_values=True))
    add_url = f"{live_server.url}/customers/{customer.code}/clients/new/"

    # Replayed from the Technician's session (another ID), the POST works.
    replay = {**form, "securecloud_id": "desktop@acme.example"}
    replay["csrfmiddlewaretoken"] = csrf_token(tech)
    answer = tech.context.request.post(add_url, form=replay, max_redirects=0)
    assert answer.status == 302, answer.status
    assert Client.objects.filter(securecloud_id="desktop@acme.example").exists()

    # The Read-only admin: no Add buttons, and the same POST is refused.
    context = chromium.new_context(viewport={"width": 1024, "height": 768})
    try:
        reader = context.new_page()
        reader.console_errors = ConsoleErrors()
        reader.console_errors.attach(reader)
        sign_in(reader, live_server, "rita")
        expect(reader.get_by_role("link", name="Add New Customer")).to_have_count(0)
        expect(reader.get_by_role("link", name="Add Sub-Reseller")).to_have_count(0)
        reader.goto(customer_url)
        expect(reader.get_by_role("heading", name=re.compile("Acme"))).to_be_visible()
        expect(reader.get_by_role("link", name="Add New Client")).to_have_count(0)
        expect(reader.get_by_role("link", name="Edit")).to_have_count(0)
        expect(reader.get_by_role("button", name=re.compile("Regenerate|Turn o"))).to_have_count(0)

        clients_before = sorted(Client.objects.values_list("securecloud_id", flat=True))
        refused = {**form, "securecloud_id": "intruder@acme.example"}
        refused["csrfmiddlewaretoken"] = csrf_token(reader)  # its own, valid token
        answer = context.request.post(add_url, form=refused, max_redirects=0)
        assert answer.status == 403
        assert "Your role does not allow this" in answer.text()
        assert sorted(Client.objects.values_list("securecloud_id", flat=True)) == clients_before
        assert reader.console_errors == []
    finally:
        context.close()
    assert tech.console_errors == []


def test_an_invited_technician_accepts_the_email_link_signs_in_and_adds_a_client(
    live_server, alpha, browser_page
):
    """An Administrator invites a Technician from the reseller pane; the invitee opens
    the emailed link, chooses a username and a password, signs in and adds a client."""
    from playwright.sync_api import expect

    reseller, customer = alpha
    memberships.add_reseller_admin(
        reseller,
        username="ada",
        email="ada@alpha.example",
        password=PASSWORD,
        acting_user=None,
        origin="test",
    )
    page = browser_page
    sign_in(page, live_server, "ada")
    invite = page.locator(".add-admin-form")
    invite.get_by_label("Email").fill("terry@alpha.example")
    invite.get_by_label("Role").select_option(label="Technician")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".invitations-table")).to_contain_text("terry@alpha.example")
    [message] = [m for m in mail.outbox if m.to == ["terry@alpha.example"]]
    link = re.search(r"https?://[^/\s]+(/invitation/\S+/)", message.body).group(1)
    page.get_by_role("button", name="Sign out").click()

    page.goto(live_server.url + link)
    expect(page.get_by_role("heading", name=re.compile("Join Alpha Backup"))).to_be_visible()
    page.get_by_label("Username").fill("terry")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my login").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    sign_in(page, live_server, "terry")
    page.goto(f"{live_server.url}/customers/{customer.code}/")
    page.get_by_role("link", name="Add New Client").click()
    page.get_by_label("SecureCloud ID").fill("terry-laptop@acme.example")
    page.get_by_role("button", name="Save").click()
    expect(
        page.get_by_role("heading", name=re.compile("terry-laptop@acme.example"))
    ).to_be_visible()
    assert Client.objects.filter(securecloud_id="terry-laptop@acme.example").exists()
    assert page.console_errors == []
