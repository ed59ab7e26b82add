"""How the console looks, in headless Chromium: icons show their colours, names of the
longest allowed length wrap instead of pushing the page sideways, warning buttons are
readable, nothing scrolls sideways on a 400 px phone, and a keyboard user can skip the
navigation and the tree to the content."""

import re

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import timezone

from clients import services as client_services
from clients.models import Client
from hierarchy import memberships, services
from hierarchy.models import GB, Node
from tests.browser.test_walkthrough import PASSWORD, sign_in

# The longest names the console accepts, without a single space to break a line at.
LONG_CUSTOMER = ("AbcElectricContractors" * 10)[:200]
LONG_OTHER_CUSTOMER = ("NorthwestPlumbingSupply" * 10)[:200]
LONG_CLIENT_NAME = ("ReceptionWorkstation" * 10)[:200]
LONG_SECURECLOUD_ID = ("frontdesk" * 30)[:242] + "@abc.example"  # 254 characters

# Bootstrap's colours, as the browser computes them.
GREEN = "rgb(25, 135, 84)"  # text-success
RED = "rgb(220, 53, 69)"  # text-danger
DARK_YELLOW = "rgb(102, 77, 3)"  # text-warning-emphasis
BLUE = "rgb(13, 110, 253)"  # text-primary

# Every icon on the page (not the sprite's symbols) with its painted fill and text colour.
ICON_COLOURS = """() => Array.from(document.querySelectorAll("svg.bi")).map((svg) => ({
  icon: svg.querySelector("use").getAttribute("href"),
  label: svg.getAttribute("aria-label"),
  fill: getComputedStyle(svg).fill,
  color: getComputedStyle(svg).color,
}))"""

# WCAG 2 contrast ratio of an element's text against the background it sits on.
CONTRAST = """(element) => {
  const rgb = (value) => value.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const [R, G, B] = [r, g, b].map((c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  let background = [255, 255, 255];
  for (let node = element; node; node = node.parentElement) {
    const parts = rgb(getComputedStyle(node).backgroundColor);
    if (parts.length === 3 || parts[3] > 0) { background = parts.slice(0, 3); break; }
  }
  const text = luminance(rgb(getComputedStyle(element).color).slice(0, 3));
  const back = luminance(background);
  return (Math.max(text, back) + 0.05) / (Math.min(text, back) + 0.05);
}"""


# Whether an element is what shows at its own place, not something on top of it.
SHOWS_ON_TOP = """(element) => {
  const box = element.getBoundingClientRect();
  return element.contains(document.elementFromPoint(box.left + 2, box.top + box.height / 2));
}"""


@pytest.fixture
def cast(db):
    """HEROware with ABC Electric (auto-authorization on; a Trial client, and a Paid one
    whose last backup failed), a customer over its usage space, and customers and a
    client with the longest names allowed."""
    reseller = services.create_reseller(None, name="HEROware", acting_user=None, origin="test")
    memberships.add_reseller_admin(
        reseller,
        username="heroware-admin",
        email="admin@heroware.example",
        password=PASSWORD,
        acting_user=None,
        origin="test",
    )
    abc = services.create_customer(
        reseller,
        name="ABC Electric",
        contact_email="it@abc-electric.example",
        auto_add_clients=True,
        email_reports=True,
        acting_user=None,
        origin="test",
    )
    client_services.create_client(
        abc, securecloud_id="alice@abc-electric.example", acting_user=None, origin="test"
    )
    paid = client_services.create_client(
        abc, securecloud_id="bob@abc-electric.example", acting_user=None, origin="test"
    )
    client_services.switch_to_paid(paid, acting_user=None, origin="test")
    Client.objects.filter(pk=paid.pk).update(
        last_backup_at=timezone.now(), last_backup_status=Client.BackupStatus.FAILED
    )
    long_customer = services.create_customer(
        reseller,
        name=LONG_CUSTOMER,
        contact_name=LONG_CLIENT_NAME,
        contact_email="office@" + "a" * 60 + ".example",
        usage_space_bytes=1 * GB,
        email_reports=True,
        acting_user=None,
        origin="test",
    )
    Node.objects.filter(pk=long_customer.pk).update(used_bytes=2 * GB)  # over its space
    services.create_customer(
        reseller,
        name=LONG_OTHER_CUSTOMER,
        contact_email="it@plumbing.example",
        acting_user=None,
        origin="test",
    )
    long_client = client_services.create_client(
        long_customer,
        securecloud_id=LONG_SECURECLOUD_ID,
        name=LONG_CLIENT_NAME,
        password="client-pass-1",
        acting_user=None,
        origin="test",
    )
    return {"abc": abc, "long_customer": long_customer, "long_client": long_client}


def signed_in(page, live_server) -> None:
    """Sign in and wait for the console, so that the next page load does not cut the
    sign-in short."""
    from playwright.sync_api import expect

    sign_in(page, live_server)
    # The pane's heading: on a phone the tree waits behind the Hierarchy toggle.
    expect(page.locator("#pane h1")).to_be_visible()


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_icon_tag_paints_in_the_text_colour():
    """The sprite's symbols have no fill of their own: each icon takes its text colour."""
    html = Template('{% icon "lock-fill" "Auto-authorization: on" "text-success" %}').render(
        Context()
    )
    assert 'class="bi text-success"' in html
    assert "fill=" not in html  # the colour comes from the stylesheet's .bi rule
    stylesheet = (settings.BASE_DIR / "static" / "css" / "console.css").read_text()
    assert re.search(r"^\.bi \{[^}]*fill: currentColor;", stylesheet, re.M)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_status_icons_show_the_colour_of_their_text(live_server, cast, browser_page, screenshot):
    """The green lock of auto-authorization, the yellow Trial hourglass, the blue Paid
    star, the red failed backup and over usage space: an icon is painted in the colour
    its text would have, not black."""
    page = browser_page
    signed_in(page, live_server)
    page.goto(live_server.url + f"/customers/{cast['abc'].code}/")
    tree = page.get_by_role("tree")
    lock = tree.get_by_role("treeitem", name=re.compile("ABC Electric")).get_by_role(
        "img", name="Auto-authorization: on"
    )
    assert lock.evaluate("(svg) => getComputedStyle(svg).fill") == GREEN
    trial = tree.get_by_role("treeitem", name=re.compile("alice@")).get_by_role("img", name="Trial")
    assert trial.evaluate("(svg) => getComputedStyle(svg).fill") == DARK_YELLOW
    paid = tree.get_by_role("treeitem", name=re.compile("bob@")).get_by_role("img", name="Paid")
    assert paid.evaluate("(svg) => getComputedStyle(svg).fill") == BLUE
    failed = page.locator(".clients-table").get_by_text("Failed").locator("svg")
    assert failed.evaluate("(svg) => getComputedStyle(svg).fill") == RED
    icons = page.evaluate(ICON_COLOURS)
    assert len(icons) > 20
    assert [icon for icon in icons if icon["fill"] != icon["color"]] == []
    screenshot(page, "look-icons-customer-pane")

    page.goto(live_server.url + "/")
    over = page.locator(".customers-table").get_by_role("img", name="Over usage space")
    assert over.evaluate("(svg) => getComputedStyle(svg).fill") == RED
    icons = page.evaluate(ICON_COLOURS)
    assert [icon for icon in icons if icon["fill"] != icon["color"]] == []
    assert page.console_errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_longest_names_wrap_instead_of_widening_the_page(
    live_server, cast, browser_page, screenshot
):
    """Names of 200 characters (and a SecureCloud ID of 254) without a space: headings,
    the breadcrumb and tables wrap them on a 1366 px screen, every table column stays in
    view, and the tree wraps its labels too, showing them whole."""
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    signed_in(page, live_server)
    customer, client = cast["long_customer"], cast["long_client"]
    pages = {
        "look-long-list-of-customers": "/",
        "look-long-customer-pane": f"/customers/{customer.code}/",
        "look-long-client-pane": f"/clients/{client.code}/",
        "look-long-client-move": f"/clients/{client.code}/move/",
    }
    for name, url in pages.items():
        page.goto(live_server.url + url)
        screenshot(page, name)
        assert page_width(page) <= 1366, url
        # Every column of the table in view, not behind a sideways scroll.
        for table in page.locator(".table-responsive").all():
            assert table.evaluate("(div) => div.scrollWidth <= div.clientWidth"), url

    # The client pane: its heading and the breadcrumb wrap inside the pane.
    page.goto(live_server.url + f"/clients/{client.code}/")
    pane_right = page.locator("#pane").evaluate("(pane) => pane.getBoundingClientRect().right")
    for part in (
        page.get_by_role("heading", level=1),
        page.get_by_role("navigation", name="Breadcrumb"),
    ):
        assert part.evaluate("(el) => el.getBoundingClientRect().right") <= pane_right + 1
    # The names give way to the buttons beside them: every button stays on one line
    # (Copy too, beside the SecureCloud ID).
    for button in page.locator("#pane .btn").all():
        assert button.bounding_box()["height"] < 40, button.text_content()
    # The tree shows the SecureCloud ID whole, wrapped inside the tree.
    label = page.locator(f"#ti-{client.code} .tree-label")
    expect(label).to_have_text(LONG_SECURECLOUD_ID)
    assert label.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    side = page.locator(".console-side").evaluate("(el) => el.getBoundingClientRect().right")
    assert label.evaluate("(el) => el.getBoundingClientRect().right") <= side
    assert page.console_errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_warning_buttons_are_readable(live_server, cast, browser_page, screenshot):
    """The yellow outline buttons ("No successful backup in 24 hours", "Regenerate")
    keep their yellow border and meet WCAG AA: text at least 4.5:1 on its background."""
    page = browser_page
    signed_in(page, live_server)
    stale = page.get_by_role("link", name=re.compile("No successful backup in 24 hours"))
    expect_warning_button(stale)
    screenshot(page, "look-warning-stale")
    page.goto(live_server.url + f"/customers/{cast['abc'].code}/")
    expect_warning_button(page.get_by_role("button", name="Regenerate"))
    assert page.console_errors == []


def expect_warning_button(button) -> None:
    assert re.search(r"\bbtn-outline-warning\b", button.get_attribute("class"))
    assert button.evaluate("(el) => getComputedStyle(el).borderTopColor") == "rgb(255, 193, 7)"
    assert button.evaluate(CONTRAST) >= 4.5


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_nothing_scrolls_sideways_on_a_400_px_phone(live_server, cast, browser_page, screenshot):
    """The navigation bar wraps onto a second line (the user name and Sign out stay in
    view), and so do the console home, a customer pane and the report preview, whose
    table scrolls in a box of its own."""
    page = browser_page
    page.set_viewport_size({"width": 400, "height": 800})
    signed_in(page, live_server)
    abc, customer = cast["abc"], cast["long_customer"]
    pages = {
        "look-400-home": "/",
        "look-400-customer-pane": f"/customers/{abc.code}/",
        "look-400-long-customer-pane": f"/customers/{customer.code}/",
        "look-400-report-preview": f"/customers/{abc.code}/report-preview/",
        "look-400-long-report-preview": f"/customers/{customer.code}/report-preview/",
    }
    for name, url in pages.items():
        page.goto(live_server.url + url)
        screenshot(page, name)
        assert page_width(page) <= 400, url
        for control in (
            page.get_by_role("link", name="heroware-admin"),
            page.get_by_role("button", name="Sign out"),
        ):
            box = control.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 400, url
    # Stacked above the pane, the tree scrolls away with the page: it does not stay stuck
    # at the top, over the pane.
    page.goto(live_server.url + f"/customers/{customer.code}/")
    clients_heading = page.locator("#clients-heading")
    clients_heading.evaluate('(heading) => heading.scrollIntoView({behavior: "instant"})')
    assert clients_heading.evaluate(SHOWS_ON_TOP)
    # Two lines, not three: Reseller Admin stays beside the brand.
    brand = page.get_by_role("link", name="SecureCloud Console").bounding_box()
    menu = page.get_by_role("button", name="Reseller Admin").bounding_box()
    assert menu["y"] < brand["y"] + brand["height"] and menu["x"] > brand["x"] + brand["width"]
    assert page.console_errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_first_tab_offers_to_skip_to_the_content(live_server, cast, browser_page):
    """The first Tab shows "Skip to content" (hidden until then); it jumps over the
    navigation and the tree to the right pane, or to the main content on a page without
    one."""
    from playwright.sync_api import expect

    page = browser_page
    signed_in(page, live_server)
    page.goto(live_server.url + f"/customers/{cast['abc'].code}/")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.bounding_box()["width"] <= 1  # hidden until focused
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["width"] > 50
    expect(skip).to_have_attribute("href", "#pane")
    page.keyboard.press("Enter")
    expect(page.locator("#pane")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is in the pane, past the tree
    assert page.evaluate("document.getElementById('pane').contains(document.activeElement)")

    # A page without a pane: the main content.
    page.goto(live_server.url + "/account/")
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    target = skip.get_attribute("href")
    assert page.locator(f"main{target}").count() == 1
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert page.console_errors == []
