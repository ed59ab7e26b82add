"""The operator's view in a browser: a superuser signs in on the console's sign-in page,
lands on every top-level reseller (the tree pages them with "Show more"), opens another
tenant's pane from the tree and adds a customer there; the page passes axe-core's
checks and the browser reports no error (a CSP violation counts)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from hierarchy import services
from hierarchy.models import AuditEvent, Node
from securecloud.console.shell import TREE_PAGE_SIZE
from tests.browser.test_axe import violations_on
from tests.browser.test_walkthrough import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def operator_world(db):
    for i in range(TREE_PAGE_SIZE + 2):
        services.create_reseller(None, name=f"Reseller {i:03}", acting_user=None, origin="test")
    get_user_model().objects.create_superuser("operator", "ops@example.com", PASSWORD)


def sign_in(page, live_server):
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_the_operator_works_in_every_tenants_tree(live_server, operator_world, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    sign_in(page, live_server)
    expect(page.get_by_role("heading", name="All resellers")).to_be_visible()
    tree = page.get_by_role("tree")
    expect(tree.get_by_role("treeitem", name="Reseller 000")).to_be_visible()
    expect(tree.get_by_role("treeitem", name=f"Reseller {TREE_PAGE_SIZE:03}")).to_have_count(0)
    tree.get_by_role("treeitem", name="Show more").click()
    expect(tree.get_by_role("treeitem", name=f"Reseller {TREE_PAGE_SIZE + 1:03}")).to_be_visible()
    expect(page.get_by_role("link", name="Django admin").first).to_be_visible()

    tree.get_by_role("treeitem", name="Reseller 007").click()
    expect(page.get_by_role("heading", name="Reseller 007")).to_be_visible()
    page.get_by_role("link", name="Add New Customer").click()
    page.get_by_label("Name", exact=True).fill("Operator's Customer")
    page.get_by_label("Contact email", exact=True).fill("it@operators.example")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("button", name="Don't Send")).to_be_visible()
    customer = Node.objects.get(name="Operator's Customer")
    assert customer.parent.name == "Reseller 007"
    event = AuditEvent.objects.get(action="customer.created", object_code=customer.code)
    assert event.actor_label == "operator"
    assert AuditEvent.objects.filter(action="login.signed_in", actor_label="operator").exists()
    assert page.console_errors == []


def test_the_operators_home_passes_axe(live_server, operator_world, chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, live_server)
        page.wait_for_load_state("load")
        assert violations_on(page) == []
    finally:
        context.close()
