"""Narrow windows, and the tree's navigation, in headless Chromium.

On a 390 px phone the pane comes first (the tree waits behind the "Hierarchy" toggle),
nothing scrolls sideways, and every table shows every value (as cards); between 768 and
1023 px the pane has the whole width, so it is never narrower than on a phone. A click on
a customer in the tree opens its pane and its clients in the tree.
"""

import re

import pytest
from django.utils import timezone

from clients import services as client_services
from clients.models import Client
from hierarchy import memberships, services
from hierarchy.models import GB, Node
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_walkthrough import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def heroware(db):
    """HEROware (with a sub-reseller) and ABC Electric with three clients: a Paid one
    whose last backup failed, a Trial one backed up and seen, one never seen; a
    customer over its usage space; History for all of it."""
    reseller = services.create_reseller(None, name="HEROware", acting_user=None, origin="test")
    admin = memberships.add_reseller_admin(
        reseller,
        username="heroware-admin",
        email="admin@heroware.example",
        password=PASSWORD,
        acting_user=None,
        origin="test",
    ).user
    services.create_reseller(reseller, name="HEROware East", acting_user=admin, origin="test")
    abc = services.create_customer(
        reseller,
        name="ABC Electric",
        contact_email="it@abc-electric.example",
        auto_add_clients=True,
        email_reports=True,
        acting_user=admin,
        origin="test",
    )
    now = timezone.now()
    paid = client_services.create_client(
        abc,
        securecloud_id="bob@abc-electric.example",
        name="Bob's desktop",
        acting_user=admin,
        origin="test",
    )
    client_services.switch_to_paid(paid, acting_user=admin, origin="test")
    Client.objects.filter(pk=paid.pk).update(
        last_backup_at=now,
        last_backup_status=Client.BackupStatus.FAILED,
        last_seen_at=now,
        used_bytes=3 * GB,
    )
    alice = client_services.create_client(
        abc,
        securecloud_id="alice@abc-electric.example",
        name="Alice's laptop",
        acting_user=admin,
        origin="test",
    )
    Client.objects.filter(pk=alice.pk).update(
        last_backup_at=now,
        last_backup_status=Client.BackupStatus.SUCCESS,
        last_success_at=now,
        last_seen_at=now,
        used_bytes=12 * GB,
    )
    client_services.create_client(
        abc,
        securecloud_id="carol@abc-electric.example",
        password="client-pass-1",
        acting_user=None,
        origin="test",
    )
    services.set_auto_authorization(abc, False, acting_user=admin, origin="test")
    full = services.create_customer(
        reseller,
        name="Main Street Dental",
        contact_email="office@msdental.example",
        usage_space_bytes=1 * GB,
        acting_user=admin,
        origin="test",
    )
    Node.objects.filter(pk=full.pk).update(used_bytes=2 * GB)
    return {"reseller": reseller, "abc": abc, "paid": paid}


def pages_of(cast) -> dict[str, str]:
    abc, paid, reseller = cast["abc"], cast["paid"], cast["reseller"]
    return {
        "reseller pane": "/",
        "customer pane": f"/customers/{abc.code}/",
        "customer users": f"/customers/{abc.code}/users/",
        "client pane": f"/clients/{paid.code}/",
        "health list": f"/resellers/{reseller.code}/health/failed/",
        "over usage space": f"/resellers/{reseller.code}/health/over-quota/",
        "customer history": f"/customers/{abc.code}/history/",
        "client history": f"/clients/{paid.code}/history/",
        "reseller history": f"/resellers/{reseller.code}/history/",
    }


# Every table cell of the pane that is not where the eye can reach it: hidden, of no
# size, outside the window, or cut off by a box that scrolls sideways. A table in a
# closed disclosure (a chart's data table, "Show the data as a table") is shown on demand.
HIDDEN_CELLS = """() => {
  const hidden = [];
  for (const cell of document.querySelectorAll("#pane table tbody td, #pane table tbody th")) {
    if (cell.matches(":empty") || cell.closest("details:not([open])")) continue;
    const box = cell.getBoundingClientRect();
    const clip = cell.closest(".table-responsive");
    const clipped = clip && clip.scrollWidth > clip.clientWidth + 1;
    if (!cell.checkVisibility() || box.width < 1 || box.height < 1 || box.left < 0
        || box.right > window.innerWidth + 0.5 || clipped) {
      hidden.push(cell.textContent.trim().slice(0, 40) || cell.dataset.label);
    }
  }
  return hidden;
}"""

# Every value of a table that the pane shows squeezed into a column narrower than a
# third of the table (one word a line makes tall rows of almost nothing).
SQUEEZED_CELLS = """() => Array.from(document.querySelectorAll("#pane table tbody td"))
  .filter((cell) => !cell.matches(":empty") && !cell.closest("details:not([open])"))
  .filter((cell) => cell.getBoundingClientRect().width < cell.closest("table")
      .getBoundingClientRect().width / 3)
  .map((cell) => cell.textContent.trim().slice(0, 40))"""


# Text that wraps inside a word: a line that starts right after a letter or digit of the
# line before (a line may start after a space, a hyphen, an "@" or a dot, as a browser
# breaks an address).
MID_WORD_BREAKS = """(selector) => {
  const broken = [];
  for (const element of document.querySelectorAll(selector)) {
    const text = element.firstChild;
    if (!text || text.nodeType !== Node.TEXT_NODE) continue;
    const range = document.createRange();
    let top = null;
    for (let i = 0; i < text.length; i++) {
      range.setStart(text, i);
      range.setEnd(text, i + 1);
      const rect = range.getBoundingClientRect();
      if (top !== null && rect.top > top + 2 && /[\\p{L}\\p{N}]/u.test(text.data[i - 1])) {
        broken.push(text.data.slice(0, i) + " | " + text.data.slice(i));
      }
      top = rect.top;
    }
  }
  return broken;
}"""


def shoot(page, name: str) -> None:
    """A screenshot to look at (caret="initial": hiding the caret would leave a style
    attribute behind, which the Content-Security-Policy reports)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, caret="initial")


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def pane_width(page) -> float:
    return page.locator("#pane").evaluate("(pane) => pane.getBoundingClientRect().width")


def test_a_phone_shows_the_pane_first_and_every_value_of_every_table(
    live_server, heroware, browser_page
):
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    expect(page.locator("#pane h1")).to_be_visible()
    for name, url in pages_of(heroware).items():
        page.goto(live_server.url + url)
        heading = page.locator("#pane h1")
        expect(heading).to_be_visible()
        shoot(page, "narrow-390-" + name.replace(" ", "-"))
        box = heading.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], f"{name}: heading at {box['y']}"
        assert page_width(page) <= PHONE["width"], name
        if name not in {"client pane", "customer users"}:  # the two without a table
            assert page.locator("#pane table tbody tr").count() >= 1, name
        assert page.evaluate(HIDDEN_CELLS) == [], name
        assert page.evaluate(SQUEEZED_CELLS) == [], name
        # The tree waits behind the Hierarchy toggle.
        expect(page.get_by_role("tree")).to_be_hidden()
    assert page.console_errors == []


def test_on_a_phone_the_hierarchy_toggle_opens_the_tree_and_a_click_shows_the_pane(
    live_server, heroware, browser_page
):
    """With JavaScript: a click in the tree swaps in the pane, closes the toggle and
    shows the new pane's heading; the customer opens in the tree to show its clients."""
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    tree = page.get_by_role("tree")
    toggle = page.get_by_text("Hierarchy", exact=True)
    toggle.click()
    expect(tree).to_be_visible()
    shoot(page, "narrow-390-hierarchy-open")
    abc = tree.get_by_role("treeitem", name=re.compile("ABC Electric"))
    abc.click()
    heading = page.get_by_role("heading", name="ABC Electric", level=1)
    expect(heading).to_be_in_viewport()
    expect(tree).to_be_hidden()
    expect(page.locator("#pane")).to_be_focused()
    toggle.click()
    expect(abc).to_have_attribute("aria-expanded", "true")
    expect(tree.get_by_role("treeitem", name=re.compile("carol@abc-electric"))).to_be_visible()
    assert page.console_errors == []


def test_on_a_phone_without_javascript_the_toggle_still_opens_the_tree(
    live_server, heroware, chromium
):
    from playwright.sync_api import expect

    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server)
        expect(page.locator("#pane h1")).to_be_in_viewport()
        tree = page.get_by_role("tree")
        expect(tree).to_be_hidden()
        page.get_by_text("Hierarchy", exact=True).click()
        expect(tree).to_be_visible()
        tree.get_by_role("treeitem", name=re.compile("ABC Electric")).click()
        expect(page.get_by_role("heading", name="ABC Electric", level=1)).to_be_in_viewport()
        expect(tree).to_be_hidden()  # a page load: the toggle closed again
        # The customer's clients show in the tree, under the customer.
        page.get_by_text("Hierarchy", exact=True).click()
        abc = tree.get_by_role("treeitem", name=re.compile("ABC Electric"))
        expect(abc).to_have_attribute("aria-expanded", "true")
        expect(tree.get_by_role("treeitem", name=re.compile("carol@abc-electric"))).to_be_visible()
    finally:
        context.close()


def test_between_phone_and_laptop_the_pane_has_the_whole_width(live_server, heroware, browser_page):
    """Below 1024 px the panes stack: at 768 and 900 px the pane is wider than on a phone;
    there and beside the tree at 1024 px the clients table shows every column, with no
    SecureCloud ID broken inside a word."""
    page = browser_page
    abc = heroware["abc"]
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    page.goto(live_server.url + f"/customers/{abc.code}/")
    phone = pane_width(page)
    for width in (768, 900, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.url + f"/customers/{abc.code}/")
        shoot(page, f"narrow-{width}-customer-pane")
        assert pane_width(page) >= phone, width
        assert page_width(page) <= width
        assert page.evaluate(HIDDEN_CELLS) == [], width
        table = page.locator(".clients-table")
        assert table.evaluate("(t) => t.closest('.table-responsive').scrollWidth") <= (
            table.evaluate("(t) => t.closest('.table-responsive').clientWidth")
        )
        assert page.evaluate(MID_WORD_BREAKS, ".clients-table tbody th a") == [], width
    assert page.console_errors == []


def test_a_click_on_a_customer_in_the_tree_opens_its_clients_too(
    live_server, heroware, browser_page
):
    """On a laptop screen, with JavaScript: the pane swaps in, and the customer opens in
    the tree to show its clients, as the page loaded without JavaScript shows it."""
    from playwright.sync_api import expect

    page = browser_page
    sign_in(page, live_server)
    tree = page.get_by_role("tree")
    abc = tree.get_by_role("treeitem", name=re.compile("ABC Electric"))
    expect(abc).to_have_attribute("aria-expanded", "false")
    abc.click()
    expect(page.get_by_role("heading", name="ABC Electric", level=1)).to_be_visible()
    expect(abc).to_have_attribute("aria-expanded", "true")
    expect(tree.get_by_role("treeitem", name=re.compile("carol@abc-electric"))).to_be_visible()
    expect(abc).to_be_focused()
    assert page.console_errors == []
