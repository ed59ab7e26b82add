"""The seed's walkthrough, end to end, in headless Chromium against the live server.

Sign in → Reseller Admin → List of Customers → Add New Customer "ABC Electric" (usage
space, auto-add, email reports) → Save → Don't Send → the customer is in the tree with
the locked key → open it: "No clients" → Add New Client (an email as SecureCloud ID) →
Trial → Switch to Paid → the breadcrumb shows the path. Then auto-authorization off: a
client without a password is refused. Any browser-console error fails the test.
"""

import re

import pytest

from clients import services as client_services
from clients.models import Client
from hierarchy import memberships, services
from hierarchy.models import GB, Node

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Walkthrough-2026"


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
    # Another customer with a client, to expand lazily in the tree.
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
    return reseller


def test_seed_walkthrough(live_server, heroware, browser_page, screenshot):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(live_server.url + "/")

    # Sign in.
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill("heroware-admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Under Reseller Admin select List of Customers.
    page.get_by_role("button", name="Reseller Admin").click()
    page.get_by_role("link", name="List of Customers").click()
    expect(page.get_by_role("heading", name=re.compile("List of Customers"))).to_be_visible()
    tree = page.get_by_role("tree")
    top = tree.get_by_role("treeitem", name=re.compile("HEROware"))
    expect(top).to_have_attribute("aria-selected", "true")
    expect(top).to_have_attribute("aria-expanded", "true")

    # 1-3. Click the reseller, Add New Customer, fill in the details, Save. (Its pane is
    # already showing: wait for the click's answer, as a person sees the pane redrawn.)
    with page.expect_response(re.compile(rf"/resellers/{heroware.code}/$")):
        top.click()
    page.get_by_role("link", name="Add New Customer").click()
    page.get_by_label("Name", exact=True).fill("ABC Electric")
    page.get_by_label("Contact name", exact=True).fill("Alice Brown")
    page.get_by_label("Contact email", exact=True).fill("it@abc-electric.example")
    usage = page.get_by_label("Usage space", exact=True)
    expect(usage).to_have_value(str(10 * GB))  # the default
    usage.select_option(label="50 GB")
    page.get_by_label("Automatically add clients when they connect to the server").check()
    page.get_by_label("Enable Email Reports").check()
    page.get_by_role("button", name="Save").click()

    # 4. Send or Don't Send.
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible()
    page.get_by_role("button", name="Don't Send").click()
    expect(page.get_by_role("alert").filter(has_text="No welcome email sent.")).to_be_visible()

    # 5-6. ABC Electric is in the tree under HEROware, selected, with the locked key.
    abc = tree.get_by_role("treeitem", name=re.compile("ABC Electric"))
    expect(abc).to_have_attribute("aria-selected", "true")
    expect(abc.get_by_role("img", name="Auto-authorization: on")).to_be_visible()
    expect(page.locator(".console-pane .auto-authorization-state")).to_have_text(
        re.compile(r"Auto-authorization:\s+On")
    )
    customer = Node.objects.get(name="ABC Electric")
    assert customer.parent_id == heroware.pk and customer.usage_space_bytes == 50 * GB
    assert customer.auto_add_clients and customer.email_reports

    # 7. The Legend in the upper right explains the icons.
    page.get_by_text("Legend").click()
    legend = page.locator(".console-legend-list")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("Auto-authorization on")
    page.get_by_text("Legend").click()

    # 8. Click the new customer: No clients. (Its pane is already showing: wait again.)
    with page.expect_response(re.compile(rf"/customers/{customer.code}/$")):
        abc.click()
    expect(page).to_have_url(re.compile(f"/customers/{customer.code}/"))
    expect(page.get_by_text("No clients", exact=True)).to_be_visible()

    # 9-11. Add New Client with an email as SecureCloud ID.
    page.get_by_role("link", name="Add New Client").click()
    breadcrumb = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumb).to_contain_text("HEROware")
    expect(breadcrumb).to_contain_text("ABC Electric")
    page.get_by_label("SecureCloud ID", exact=True).fill("alice@abc-electric.example")
    page.get_by_label("Name", exact=True).fill("Alice's laptop")
    page.get_by_role("button", name="Save").click()
    client_item = tree.get_by_role("treeitem", name=re.compile("alice@abc-electric.example"))
    expect(client_item).to_have_attribute("aria-selected", "true")
    expect(client_item.get_by_role("img", name="Trial")).to_be_visible()
    expect(page.locator(".client-plan")).to_contain_text("Trial")

    # 12. The yellow highlighted Switch to Paid, with a confirmation.
    page.get_by_role("link", name="Switch to Paid").click()
    page.get_by_role("button", name="Switch to Paid").click()
    expect(page.locator(".client-plan")).to_contain_text("Paid")
    expect(client_item.get_by_role("img", name="Paid")).to_be_visible()
    assert Client.objects.get(securecloud_id="alice@abc-electric.example").plan == "paid"

    # 10 and 13. The breadcrumb says where we are; the SecureCloud ID to install with.
    expect(breadcrumb.get_by_role("link")).to_have_text(
        ["HEROware", "ABC Electric", "alice@abc-electric.example"]
    )
    expect(page.locator("#securecloud-id")).to_have_text("alice@abc-electric.example")
    screenshot(page, "client-pane")

    # Keyboard: the tree follows the WAI-ARIA pattern.
    client_item.focus()
    page.keyboard.press("ArrowLeft")  # to the parent customer
    expect(abc).to_be_focused()
    page.keyboard.press("ArrowLeft")  # collapse it
    expect(abc).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Home")
    expect(top).to_be_focused()
    page.keyboard.press("End")
    dental = tree.get_by_role("treeitem", name=re.compile("Main Street Dental"))
    expect(dental).to_be_focused()
    expect(dental).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowRight")  # loads its clients (htmx partial)
    expect(dental).to_have_attribute("aria-expanded", "true")
    front_desk = tree.get_by_role("treeitem", name=re.compile("front-desk@msdental.example"))
    expect(front_desk).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(front_desk).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(dental).to_be_focused()

    # Search finds clients by SecureCloud ID.
    page.get_by_role("searchbox", name="Find a customer or client").fill("front-desk")
    expect(page.locator("#search-results")).to_contain_text("front-desk@msdental.example")
    page.get_by_role("searchbox", name="Find a customer or client").fill("")
    expect(page.locator("#search-results")).to_be_empty()

    # Auto-authorization off: a client without a password is refused.
    breadcrumb.get_by_role("link", name="ABC Electric").click()
    page.get_by_role("button", name="Turn off auto-authorization").click()
    expect(
        page.get_by_role("alert").filter(has_text="Auto-authorization is now off")
    ).to_be_visible()
    expect(abc.get_by_role("img", name="Auto-authorization: off")).to_be_visible()
    page.mouse.move(0, 0)  # no button caught hovering in the picture
    screenshot(page, "customer-pane")
    page.get_by_role("link", name="Add New Client").click()
    expect(page.get_by_role("note")).to_contain_text(
        "Since Auto-Authorization is turned off, you must enter a password"
    )
    page.get_by_label("SecureCloud ID", exact=True).fill("bob@abc-electric.example")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#div_id_password .invalid-feedback")).to_contain_text(
        "Since Auto-Authorization is turned off, you must enter a password."
    )
    assert not Client.objects.filter(securecloud_id="bob@abc-electric.example").exists()

    # From a 1024 px screen up: nothing overflows sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    page.goto(live_server.url + "/")
    screenshot(page, "list-of-customers")

    assert page.console_errors == []


def test_show_more_keeps_the_keyboard_in_the_tree(live_server, heroware, browser_page):
    """A customer with more clients than a tree page: expand it with the keyboard, go to
    "Show more" and press Enter; the focus lands on the first client of the next page."""
    from django.utils import timezone
    from playwright.sync_api import expect

    dental = Node.objects.get(name="Main Street Dental")
    Client.objects.bulk_create(
        Client(
            customer=dental,
            securecloud_id=f"seat{i:03}@msdental.example",
            password="x",
            trial_ends_at=timezone.now(),
        )
        for i in range(60)
    )
    page = browser_page
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("heroware-admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    tree = page.get_by_role("tree")
    customer = tree.get_by_role("treeitem", name=re.compile("Main Street Dental"))
    customer.focus()
    page.keyboard.press("ArrowRight")
    expect(customer).to_have_attribute("aria-expanded", "true")
    more = tree.get_by_role("treeitem", name="Show more")
    expect(more).to_be_visible()
    # htmx wires new content up as it settles, a few milliseconds after it shows; a
    # person cannot press a key in that time, a test can.
    page.wait_for_function(
        "() => document.querySelector('.tree-more-link')['htmx-internal-data'] !== undefined"
    )
    page.keyboard.press("End")
    expect(more).to_be_focused()
    page.keyboard.press("Enter")
    # Page 1 held the front desk and seats 000-023; page 2 starts with seat 024.
    focused = tree.get_by_role("treeitem", name=re.compile("seat024@msdental.example"))
    expect(focused).to_be_focused()
    assert page.console_errors == []


def test_clicking_a_tree_node_swaps_in_its_pane_and_keeps_deep_links(
    live_server, heroware, browser_page
):
    """With htmx a click replaces only the right pane (no page load, the tree keeps its
    state), the URL changes, the node is selected, and the back button goes back."""
    from playwright.sync_api import expect

    page = browser_page
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("heroware-admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("List of Customers"))).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")
    tree = page.get_by_role("tree")
    dental = tree.get_by_role("treeitem", name=re.compile("Main Street Dental"))
    dental.click()
    customer = Node.objects.get(name="Main Street Dental")
    expect(page).to_have_url(re.compile(rf"/customers/{customer.code}/$"))
    expect(page.get_by_role("heading", name="Main Street Dental")).to_be_visible()
    expect(dental).to_have_attribute("aria-selected", "true")
    expect(tree.get_by_role("treeitem", name=re.compile("HEROware"))).to_have_attribute(
        "aria-selected", "false"
    )
    assert page.evaluate("window.stillTheSamePage") is True  # swapped, not reloaded
    page.go_back()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name=re.compile("List of Customers"))).to_be_visible()
    page.goto(live_server.url + f"/customers/{customer.code}/")  # the deep link itself
    expect(page.get_by_role("heading", name="Main Street Dental")).to_be_visible()
    expect(tree.get_by_role("treeitem", name=re.compile("Main Street Dental"))).to_have_attribute(
        "aria-selected", "true"
    )
    assert page.console_errors == []


def sign_in(page, live_server) -> None:
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("heroware-admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_pane_links_and_forms_swap_the_pane_tree_and_messages(live_server, heroware, browser_page):
    """Links and forms in the right pane swap in the next page's pane, tree and messages
    without a page load (History too); a confirmation still stops a form; answers without
    a pane (a session that ran out) load as whole pages."""
    from playwright.sync_api import expect

    page = browser_page
    sign_in(page, live_server)
    tree = page.get_by_role("tree")
    tree.get_by_role("treeitem", name=re.compile("Main Street Dental")).click()
    expect(page.get_by_role("heading", name="Main Street Dental")).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")

    # A form with an error: the pane shows it and the focus is on the field.
    page.get_by_role("link", name="Add New Client").click()
    page.get_by_role("button", name="Save").click()
    securecloud_id = page.get_by_label("SecureCloud ID", exact=True)
    expect(securecloud_id).to_have_class(re.compile("is-invalid"))
    expect(securecloud_id).to_be_focused()

    # Saved: the new client is in the tree, selected, with the message; no page load.
    securecloud_id.fill("reception@msdental.example")
    page.get_by_label("Password", exact=True).fill("client-pass-2")
    page.get_by_label("Password (again)", exact=True).fill("client-pass-2")
    page.get_by_role("button", name="Save").click()
    reception = tree.get_by_role("treeitem", name=re.compile("reception@msdental.example"))
    expect(reception).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("alert")).to_contain_text("reception@msdental.example")
    client = Client.objects.get(securecloud_id="reception@msdental.example")
    expect(page).to_have_url(re.compile(rf"/clients/{client.code}/$"))
    expect(
        page.get_by_role("heading", name=re.compile("reception@msdental.example"))
    ).to_be_focused()

    # A confirmation answered "no" stops the form; "yes" lets it through.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Disable").click()
    expect(page.get_by_role("button", name="Disable")).to_be_visible()
    assert Client.objects.get(pk=client.pk).status != Client.Status.DISABLED
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Disable").click()
    expect(page.get_by_role("button", name="Enable")).to_be_visible()
    assert Client.objects.get(pk=client.pk).status == Client.Status.DISABLED
    assert page.evaluate("window.stillTheSamePage") is True

    # The tree shows the state the pane shows.
    expect(reception.get_by_role("img", name="Disabled")).to_be_visible()

    # History shows in the pane too, under the breadcrumb down to the client.
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name=re.compile("History"))).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumb").get_by_role("listitem")).to_have_text(
        ["HEROware", "Main Street Dental", "reception@msdental.example", "History"]
    )
    assert page.evaluate("window.stillTheSamePage") is True

    # A session that ran out: the sign-in page, as a whole page, not inside the pane.
    page.go_back()
    expect(page.get_by_role("link", name="Move")).to_be_visible()
    page.context.clear_cookies()
    page.get_by_role("link", name="Move").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.locator("#pane")).to_have_count(0)
    assert page.console_errors == []


# Holds back the answer to one URL, as a slow network would, so that a test can click
# again before it comes.
SLOW_ANSWERS = """(part) => {
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.slow = String(url).includes(part);
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...args) {
    if (!this.slow) return send.apply(this, args);
    setTimeout(() => send.apply(this, args), 400);
  };
}"""


def test_the_last_click_wins_when_answers_cross(live_server, heroware, browser_page):
    """A tree click, then at once a link in the pane (whose answer comes later): the pane
    shows the page of the last click, as with page loads, not the first one's."""
    from playwright.sync_api import expect

    page = browser_page
    sign_in(page, live_server)
    expect(page.get_by_role("link", name="Add New Customer")).to_be_visible()
    page.evaluate(SLOW_ANSWERS, "/customers/new")
    page.evaluate(
        """() => {
          const links = Array.from(document.querySelectorAll("a"));
          links.find((a) => a.textContent.includes("Main Street Dental")).click();
          links.find((a) => a.textContent.includes("Add New Customer")).click();
        }"""
    )
    expect(page.get_by_role("heading", name="Add New Customer")).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Add New Customer")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_be_editable()
    # htmx logs the request that the second click aborted (hx-sync) as an error; nothing
    # else may show up.
    aborted = re.compile(r"console: htmx:(afterRequest|sendAbort), ")
    assert [error for error in page.console_errors if not aborted.match(error)] == []


def test_a_session_that_ran_out_shows_the_sign_in_page_not_a_tree_inside_the_tree(
    live_server, heroware, browser_page
):
    from playwright.sync_api import expect

    page = browser_page
    sign_in(page, live_server)
    dental = page.get_by_role("tree").get_by_role("treeitem", name=re.compile("Main Street"))
    expect(dental).to_have_attribute("aria-expanded", "false")
    page.context.clear_cookies()
    dental.focus()
    page.keyboard.press("ArrowRight")  # loads its clients (htmx): signed out now
    expect(page).to_have_url(re.compile(r"/login/\?next=%2F$"))
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_role("tree")).to_have_count(0)
    # Signing in again comes back to the console.
    page.get_by_label("Username").fill("heroware-admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("tree")).to_be_visible()
    assert page.console_errors == []


def test_a_tree_click_clears_the_last_actions_message(live_server, heroware, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    sign_in(page, live_server)
    tree = page.get_by_role("tree")
    tree.get_by_role("treeitem", name=re.compile("Main Street Dental")).click()
    page.get_by_role("button", name="Turn on auto-authorization").click()
    alert = page.get_by_role("alert").filter(has_text="Auto-authorization is now on")
    expect(alert).to_be_visible()
    tree.get_by_role("treeitem", name=re.compile("HEROware")).click()
    expect(page.get_by_role("heading", name=re.compile("List of Customers"))).to_be_visible()
    expect(alert).to_have_count(0)
    # A label in the tree shows whole.
    label = tree.locator(".tree-label", has_text="Main Street Dental")
    assert label.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    assert page.console_errors == []


def test_back_after_the_session_ran_out_asks_to_sign_in_and_keeps_no_copies(
    live_server, heroware, browser_page
):
    """Back and Forward load pages from the server (which checks the session), and the
    browser's storage keeps no copies of panes, which hold registration keys."""
    from playwright.sync_api import expect

    page = browser_page
    sign_in(page, live_server)
    tree = page.get_by_role("tree")
    tree.get_by_role("treeitem", name=re.compile("Main Street Dental")).click()
    expect(page.get_by_role("heading", name="Main Street Dental")).to_be_visible()
    page.get_by_role("link", name="Add New Client").click()
    expect(page.get_by_role("heading", name="Add New Client")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Main Street Dental")).to_be_visible()
    stored = "JSON.stringify(Object.assign({}, localStorage, sessionStorage))"
    assert "Main Street Dental" not in page.evaluate(stored)  # no copy of a page
    page.context.clear_cookies()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_role("tree")).to_have_count(0)
    assert page.console_errors == []


def test_a_refused_form_shows_why_instead_of_the_form_again(live_server, heroware, browser_page):
    # The form's CSRF cookie is gone (a new sign-in elsewhere, cleared cookies): Django
    # refuses the POST with the console's "This form has expired" page, which must show.
    from playwright.sync_api import expect

    page = browser_page
    sign_in(page, live_server)
    customer = page.get_by_role("tree").get_by_role("treeitem", name=re.compile("Main Street"))
    customer.click()
    button = page.get_by_role("button", name="Turn on auto-authorization")
    expect(button).to_be_visible()
    # The click also opens the customer's clients in the tree: wait for that swap too,
    # and for the storage chart the pane loads (its answer sends the CSRF cookie again).
    expect(customer).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#customer-storage-chart section")).to_be_attached()
    kept = [cookie for cookie in page.context.cookies() if cookie["name"] != "csrftoken"]
    page.context.clear_cookies()
    page.context.add_cookies(kept)
    button.click()
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    assert not Node.objects.get(name="Main Street Dental").auto_add_clients


def test_double_clicks_addresses_and_new_tabs_behave_like_page_loads(
    live_server, heroware, browser_page
):
    """A double click on Save saves once; a form answered with errors keeps the page's
    address (its own takes POST only); an action coming back to its page takes no new
    Back step; the message shows at the top; Ctrl-click on the tree opens a new tab."""
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 1024, "height": 500})  # the message above the fold
    sign_in(page, live_server)
    tree = page.get_by_role("tree")
    tree.get_by_role("treeitem", name=re.compile("Main Street Dental")).click()
    page.get_by_role("link", name="Add New Client").click()
    page.get_by_label("SecureCloud ID", exact=True).fill("twice@msdental.example")
    page.get_by_label("Password", exact=True).fill("client-pass-2")
    page.get_by_label("Password (again)", exact=True).fill("client-pass-2")
    posts: list[str] = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    page.get_by_role("button", name="Save").dblclick()
    saved = tree.get_by_role("treeitem", name=re.compile("twice@msdental.example"))
    expect(saved).to_have_attribute("aria-selected", "true")
    assert len(posts) == 1, posts  # the second click found the button off
    expect(page.locator(".invalid-feedback")).to_have_count(0)
    assert Client.objects.filter(securecloud_id="twice@msdental.example").count() == 1
    client = Client.objects.get(securecloud_id="twice@msdental.example")
    pane_url = re.compile(rf"/clients/{client.code}/$")
    expect(page).to_have_url(pane_url)
    alert = page.get_by_role("alert").first
    expect(alert).to_be_in_viewport()

    # Reset password with a mismatch: errors in the pane, the address stays the pane's.
    page.get_by_label("New password", exact=True).fill("new-password-1")
    page.get_by_label("New password (again)", exact=True).fill("new-password-2")
    page.get_by_role("button", name="Reset password").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    expect(page).to_have_url(pane_url)
    page.reload()
    expect(page.get_by_role("heading", name=re.compile("twice@msdental.example"))).to_be_visible()

    # Disable, then Enable: both come back to this page, neither adds a Back step.
    steps = page.evaluate("history.length")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Disable").click()
    page.get_by_role("button", name="Enable").click()
    expect(page.get_by_role("button", name="Disable")).to_be_visible()
    assert page.evaluate("history.length") == steps

    # Ctrl-click on a tree item: a new tab; this page stays as it is.
    with page.context.expect_page() as opened:
        tree.get_by_role("treeitem", name=re.compile("HEROware")).click(modifiers=["Control"])
    opened.value.wait_for_load_state()
    assert "/resellers/" in opened.value.url
    expect(page).to_have_url(pane_url)
