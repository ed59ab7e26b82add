"""The console with the keyboard only, in headless Chromium: every control the Tab key
reaches shows a focus ring of at least 2 px with 3:1 contrast against what surrounds it;
the Legend closes with Escape and when the focus leaves it; after a pane changes the
focus is on its heading, and a pane opened from the tree is announced; a form being sent
keeps the focus on its button and is sent once; the tree has type-ahead."""

import re

import pytest

from clients import services as client_services
from clients.models import Client
from hierarchy import memberships, services
from hierarchy.models import Node
from tests.browser.test_walkthrough import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The focused element's outline, and the WCAG contrast of its colour against the
# background it is drawn on (the parent's, or the element's own for a ring drawn inside).
FOCUS_RING = """() => {
  const element = document.activeElement;
  const rgb = (value) => value.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const [R, G, B] = [r, g, b].map((c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const style = getComputedStyle(element);
  const inside = parseFloat(style.outlineOffset) < 0;
  let background = [255, 255, 255];
  for (let node = inside ? element : element.parentElement; node; node = node.parentElement) {
    const parts = rgb(getComputedStyle(node).backgroundColor);
    if (parts.length === 3 || parts[3] > 0) { background = parts.slice(0, 3); break; }
  }
  const ring = luminance(rgb(style.outlineColor).slice(0, 3));
  const back = luminance(background);
  const name = (element.getAttribute("aria-label") || element.textContent || element.name || "")
    .replace(/\\s+/g, " ").trim().slice(0, 40);
  return {
    element: element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") + " " + name,
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    contrast: (Math.max(ring, back) + 0.05) / (Math.min(ring, back) + 0.05),
  };
}"""

# Whether the focused element is what shows at its own place, not something on top of it.
SHOWS_ON_TOP = """() => {
  const element = document.activeElement;
  const box = element.getBoundingClientRect();
  return element.contains(document.elementFromPoint(box.left + 2, box.top + box.height / 2));
}"""


class FocusRings:
    """Checks the focus ring of each element the keyboard reaches; keeps what failed."""

    def __init__(self, page):
        self.page = page
        self.reached: list[str] = []
        self.failures: list[str] = []

    def check(self) -> None:
        ring = self.page.evaluate(FOCUS_RING)
        self.reached.append(ring["element"])
        if ring["element"].startswith("body"):
            self.failures.append("the focus fell back to the page's body")
        elif ring["style"] in ("none", "hidden") or ring["width"] < 2 or ring["contrast"] < 3:
            self.failures.append(
                f"{ring['element']}: outline {ring['style']} {ring['width']}px, "
                f"contrast {ring['contrast']:.2f}:1"
            )

    def tab_to(self, target, *, key: str = "Tab", limit: int = 60) -> None:
        """Press Tab (or Shift+Tab) until the target has the focus, checking each stop."""
        from playwright.sync_api import expect

        expect(target).to_be_visible()
        for _ in range(limit):
            if target.evaluate("(element) => element === document.activeElement"):
                self.check()
                return
            self.page.keyboard.press(key)
            self.check()
        raise AssertionError(f"{key} never reached {target}; reached {self.reached[-limit:]}")

    def assert_all_visible(self) -> None:
        assert self.reached, "the walk reached no control"
        assert self.failures == [], "\n".join(self.failures)


@pytest.fixture
def heroware(db):
    reseller = services.create_reseller(None, name="HEROware", acting_user=None, origin="test")
    memberships.add_reseller_admin(
        reseller,
        username="heroware-admin",
        email="admin@heroware.example",
        password=PASSWORD,
        acting_user=None,
        origin="test",
    )
    services.create_customer(
        reseller,
        name="ABC Electric",
        contact_email="it@abc-electric.example",
        auto_add_clients=True,
        email_reports=True,
        acting_user=None,
        origin="test",
    )
    dental = services.create_customer(
        reseller,
        name="Main Street Dental",
        contact_email="office@msdental.example",
        acting_user=None,
        origin="test",
    )
    client_services.create_client(
        dental,
        securecloud_id="front-desk@msdental.example",
        password="client-pass-1",
        acting_user=None,
        origin="test",
    )
    services.create_customer(
        reseller,
        name="Mountain Bakery",
        contact_email="it@bakery.example",
        acting_user=None,
        origin="test",
    )
    return reseller


def keyboard_sign_in(page, live_server, rings: FocusRings) -> None:
    from playwright.sync_api import expect

    page.goto(live_server.url + "/login/")
    rings.tab_to(page.get_by_label("Username"))
    page.keyboard.type("heroware-admin")
    rings.tab_to(page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("tree")).to_be_visible()


def test_the_main_flow_with_the_keyboard_only(live_server, heroware, browser_page):
    """Sign in, add a customer (Save, Don't Send), open a customer from the tree, open the
    Legend and close it with Escape, add a client: with Tab, Enter, Space, Escape and
    typing only. Every control reached shows its focus ring."""
    from playwright.sync_api import expect

    page = browser_page
    rings = FocusRings(page)
    keyboard_sign_in(page, live_server, rings)
    pane = page.locator("#pane")
    tree = page.get_by_role("tree")

    # Add New Customer: the focus goes to the form's heading.
    rings.tab_to(pane.get_by_role("link", name="Add New Customer"))
    page.keyboard.press("Enter")
    heading = pane.get_by_role("heading", name="Add New Customer")
    expect(heading).to_be_focused()
    rings.check()
    rings.tab_to(page.get_by_label("Name", exact=True))
    page.keyboard.type("Northwind Traders")
    rings.tab_to(page.get_by_label("Contact email", exact=True))
    page.keyboard.type("it@northwind.example")
    auto_add = page.get_by_label("Automatically add clients when they connect to the server")
    rings.tab_to(auto_add)
    page.keyboard.press("Space")
    expect(auto_add).to_be_checked()

    # Save: while the form is sent its button keeps the focus, says it is unavailable, and
    # a second Enter sends nothing more.
    held = []
    page.route(
        re.compile(r"/customers/new/$"),
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    page.evaluate(
        "window.formsSent = 0;"
        "document.addEventListener('htmx:beforeRequest', () => window.formsSent++)"
    )
    save = pane.get_by_role("button", name="Save")
    rings.tab_to(save)
    page.keyboard.press("Enter")
    expect(save).to_have_attribute("aria-disabled", "true")
    expect(save).to_be_focused()
    rings.check()
    page.keyboard.press("Enter")
    assert page.evaluate("window.formsSent") == 1
    assert len(held) == 1
    held[0].continue_()

    # Send / Don't Send.
    expect(pane.get_by_role("heading", name=re.compile("welcome email", re.I))).to_be_focused()
    rings.check()
    rings.tab_to(pane.get_by_role("button", name="Don't Send"))
    page.keyboard.press("Space")
    expect(page.get_by_role("alert").filter(has_text="No welcome email sent.")).to_be_visible()
    expect(pane.get_by_role("heading", name="Northwind Traders")).to_be_focused()
    assert Node.objects.get(name="Northwind Traders").auto_add_clients

    # Open ABC Electric from the tree: type-ahead finds it; Enter opens its pane; the focus
    # stays in the tree and the live region says which pane opened.
    northwind = tree.get_by_role("treeitem", name=re.compile("Northwind Traders"))
    rings.tab_to(northwind, key="Shift+Tab")
    page.keyboard.type("a")
    abc = tree.get_by_role("treeitem", name=re.compile("ABC Electric"))
    expect(abc).to_be_focused()
    rings.check()
    page.keyboard.press("Enter")
    expect(pane.get_by_role("heading", name="ABC Electric")).to_be_visible()
    expect(abc).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Opened: Customer ABC Electric")

    # The Legend: Enter opens it, Escape closes it and leaves the focus on it; opened
    # again, it closes when Tab goes on, and the next button is not under it.
    legend = pane.locator(".console-legend > summary")
    legend_list = pane.locator(".console-legend-list")
    rings.tab_to(legend)
    page.keyboard.press("Enter")
    expect(legend_list).to_be_visible()
    page.keyboard.press("Escape")
    expect(legend_list).to_be_hidden()
    expect(legend).to_be_focused()
    page.keyboard.press("Space")
    expect(legend_list).to_be_visible()
    key_toggle = pane.get_by_role("button", name=re.compile("Turn off auto-authorization"))
    rings.tab_to(key_toggle)
    expect(legend_list).to_be_hidden()
    assert page.evaluate(SHOWS_ON_TOP)

    # Add New Client, past Edit, History, Delete, Copy and Regenerate.
    rings.tab_to(pane.get_by_role("link", name="Add New Client"))
    page.keyboard.press("Enter")
    expect(pane.get_by_role("heading", name="Add New Client")).to_be_focused()
    rings.check()
    rings.tab_to(page.get_by_label("SecureCloud ID", exact=True))
    page.keyboard.type("carol@abc-electric.example")
    rings.tab_to(pane.get_by_role("button", name="Save"))
    page.keyboard.press("Enter")
    expect(
        pane.get_by_role("heading", name=re.compile("carol@abc-electric.example"))
    ).to_be_focused()
    rings.check()
    assert Client.objects.filter(securecloud_id="carol@abc-electric.example").exists()

    # The navigation bar, dark: its controls show a light ring.
    rings.tab_to(page.get_by_role("button", name="Sign out"), key="Shift+Tab")
    rings.tab_to(page.get_by_role("button", name="Reseller Admin"), key="Shift+Tab")
    page.keyboard.press("Enter")
    rings.tab_to(page.get_by_role("link", name="List of Customers"))
    page.keyboard.press("Escape")

    rings.assert_all_visible()
    assert page.console_errors == []


def test_the_legend_closes_with_escape_and_when_the_focus_or_a_click_leaves(
    live_server, heroware, browser_page
):
    from playwright.sync_api import expect

    page = browser_page
    keyboard_sign_in(page, live_server, FocusRings(page))
    legend = page.locator(".console-legend > summary")
    legend_list = page.locator(".console-legend-list")

    # Escape, with the focus in the page elsewhere: closed.
    legend.click()
    expect(legend_list).to_be_visible()
    page.get_by_role("heading", level=1).click()
    expect(legend_list).to_be_hidden()  # a click elsewhere closes it
    legend.click()
    page.keyboard.press("Escape")
    expect(legend_list).to_be_hidden()
    expect(legend).to_be_focused()

    # Shift+Tab out of it: closed too.
    legend.focus()
    page.keyboard.press("Enter")
    expect(legend_list).to_be_visible()
    page.keyboard.press("Shift+Tab")
    expect(legend_list).to_be_hidden()
    assert page.console_errors == []


def test_the_tree_has_type_ahead(live_server, heroware, browser_page):
    """A letter moves the focus to the next item whose name starts with it; the same
    letter again to the next one after it (round to the top); letters typed together
    spell the start of a name."""
    from playwright.sync_api import expect

    page = browser_page
    keyboard_sign_in(page, live_server, FocusRings(page))
    tree = page.get_by_role("tree")
    top = tree.get_by_role("treeitem", name=re.compile("HEROware"))
    dental = tree.get_by_role("treeitem", name=re.compile("Main Street Dental"))
    bakery = tree.get_by_role("treeitem", name=re.compile("Mountain Bakery"))
    top.focus()
    page.keyboard.press("m")
    expect(dental).to_be_focused()
    page.keyboard.press("m")
    expect(bakery).to_be_focused()
    page.keyboard.press("m")  # round to the first one again
    expect(dental).to_be_focused()
    page.keyboard.press("Home")
    page.keyboard.type("mo")
    expect(bakery).to_be_focused()
    page.keyboard.press("Home")
    page.keyboard.press("Shift+A")  # capitals too
    expect(tree.get_by_role("treeitem", name=re.compile("ABC Electric"))).to_be_focused()
    page.keyboard.press("Home")
    page.keyboard.press("z")  # no name starts with z: the focus stays
    expect(top).to_be_focused()
    assert page.console_errors == []
