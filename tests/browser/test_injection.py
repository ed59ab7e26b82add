"""Markup in a name does nothing in the browser: a sub-reseller's admin who names a
customer and a client with htmx attributes cannot make the parent reseller's admin's
browser send a request (here: turn off their two-factor sign-in and rotate the
customer's registration key) by getting them to open a page that shows those names.
And htmx's settling of a swap never copies a style attribute, which the
Content-Security-Policy would refuse (and log)."""

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from clients import services as client_services
from hierarchy import memberships, services
from hierarchy.models import Node
from securecloud.accounts import twofactor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Walkthrough-2026"
DISABLE_TWO_FACTOR = '<i hx-post="/account/2fa/disable/" hx-trigger="load">x</i>'


def _code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def cast(db):
    """HEROware's admin (two-factor on) and a sub-reseller's admin who names things."""
    heroware = services.create_reseller(None, name="HEROware", acting_user=None, origin="test")
    parent_admin = memberships.add_reseller_admin(
        heroware,
        username="parent-admin",
        email="admin@heroware.example",
        password=PASSWORD,
        acting_user=None,
        origin="test",
    ).user
    pending = twofactor.authenticator_for_key(parent_admin, random_hex(20))
    device, _ = twofactor.confirm_setup(
        parent_admin, pending.key, _code(pending), verified=False, origin="test"
    )
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # its code works at sign-in

    east = services.create_reseller(heroware, name="HEROware East", acting_user=None, origin="test")
    attacker = memberships.add_reseller_admin(
        east,
        username="east-admin",
        email="admin@east.example",
        password=PASSWORD,
        acting_user=None,
        origin="test",
    ).user
    customer = services.create_customer(
        east,
        name=f"Evil {DISABLE_TWO_FACTOR}",
        contact_email="it@evil.example",
        auto_add_clients=True,
        email_reports=True,
        acting_user=attacker,
        origin="test",
    )
    rotate_key = (
        f'<i hx-post="/customers/{customer.code}/registration-key/" hx-trigger="load">k</i>'
    )
    client = client_services.create_client(
        customer,
        securecloud_id="pc@evil.example",
        name=f"Laptop {rotate_key}",
        acting_user=attacker,
        origin="test",
    )
    return {
        "parent_admin": parent_admin,
        "device": device,
        "customer": customer,
        "client": client,
        "east": east,
    }


def sign_in_with_two_factor(page, live_server, device) -> None:
    from playwright.sync_api import expect

    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("parent-admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/account/2fa/verify/"))
    page.locator("input[name=token]").fill(_code(device))
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/account/2fa/verify/|/login/"))


def test_names_with_htmx_attributes_send_no_request(live_server, cast, browser_page):
    page = browser_page
    sign_in_with_two_factor(page, live_server, cast["device"])
    key = Node.objects.get(pk=cast["customer"].pk).registration_key
    sent = []
    page.on("request", lambda request: request.method != "GET" and sent.append(request.url))
    customer, client = cast["customer"], cast["client"]
    shown = {}  # what each page shows of the names, as text

    # Pages loaded whole: the report preview (with its plain-text part opened), the
    # panes, the History pages.
    for url in (
        f"/customers/{customer.code}/report-preview/",
        f"/customers/{customer.code}/report-preview/?period=weekly",
        f"/customers/{customer.code}/",
        f"/clients/{client.code}/",
        f"/customers/{customer.code}/history/",
        f"/clients/{client.code}/history/",
        f"/resellers/{cast['east'].code}/",
    ):
        page.goto(live_server.url + url)
        if "report-preview" in url:
            page.get_by_text("Plain-text part").click()
            shown[url] = page.locator("pre").inner_text()
        else:
            shown[url] = page.locator("main").inner_text()
        page.wait_for_load_state("networkidle")

    # A pane swapped in by htmx: the customer, from the tree.
    page.goto(live_server.url + f"/resellers/{cast['east'].code}/")
    with page.expect_response(re.compile(rf"/customers/{customer.code}/$")):
        page.locator(f"#ti-{customer.code}").click()
    page.wait_for_load_state("networkidle")
    shown["swapped customer pane"] = page.locator("#pane").inner_text()

    assert sent == []
    assert twofactor.has_two_factor(cast["parent_admin"])
    assert Node.objects.get(pk=customer.pk).registration_key == key
    assert {where: DISABLE_TWO_FACTOR in text for where, text in shown.items()} == {
        where: True for where in shown
    }
    assert page.console_errors == []


def test_htmx_swaps_after_a_screenshot_log_no_csp_violation(live_server, cast, browser_page):
    """A screenshot leaves style="" on the form fields (it hides the caret); htmx, settling
    a swap, first gives each new element the attributes of the old one with its id, and a
    copied style is an inline style, which the Content-Security-Policy refuses and logs.
    Two reseller panes have the same form fields: swap one for the other."""
    page = browser_page
    sign_in_with_two_factor(page, live_server, cast["device"])
    heroware = cast["east"].parent
    page.goto(live_server.url + f"/resellers/{heroware.code}/")
    page.screenshot()

    with page.expect_response(re.compile(rf"/resellers/{cast['east'].code}/$")):
        page.locator(f"#ti-{cast['east'].code}").click()
    page.wait_for_load_state("networkidle")
    page.screenshot()
    with page.expect_response(re.compile(rf"/resellers/{heroware.code}/$")):
        page.locator(f"#ti-{heroware.code}").click()
    page.wait_for_load_state("networkidle")

    assert page.console_errors == []
