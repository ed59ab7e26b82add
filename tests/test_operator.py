"""The operator's view: a superuser signed in to the console (not only the Django admin)
sees every top-level reseller, opens every pane of every tenant and acts there with an
Administrator's rights; the History names the superuser as the one who acted."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hierarchy.models import GB, AuditEvent, Node
from securecloud.console.shell import TABLE_PAGE_SIZE, TREE_PAGE_SIZE

MANY = 1000


def add_top_resellers(count: int, start: int = 0) -> None:
    """Top-level resellers in bulk: each its own tree, as the services make them."""
    first_tree = (Node.objects.order_by("-tree_id").values_list("tree_id", flat=True).first()) or 0
    Node.objects.bulk_create(
        Node(
            kind=Node.Kind.RESELLER,
            name=f"Operator test {start + i:04}",
            tree_id=first_tree + 1 + i,
            lft=1,
            rght=2,
            level=0,
        )
        for i in range(count)
    )


def test_the_superusers_console_home_lists_every_top_level_reseller(
    root_client, reseller_a, sub_reseller_a, reseller_b
):
    response = root_client.get(reverse("console-home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "All resellers" in page
    for reseller in (reseller_a, reseller_b):
        assert reverse("reseller-pane", args=[reseller.code]) in page
    # The tree lists the top-level resellers; a sub-reseller is one level down.
    assert 'id="ti-' + str(reseller_b.code) in page
    assert 'id="ti-' + str(sub_reseller_a.code) not in page
    # The Django admin is a link away, not where the console sends the operator.
    assert reverse("admin:index") in page


def test_no_reseller_admin_sees_the_operators_list(alice_client, reseller_b, bob):
    page = alice_client.get(reverse("console-home")).content.decode()
    assert "Bravo Storage" not in page and "All resellers" not in page
    assert reverse("admin:index") not in page  # no Django admin link either
    assert alice_client.get(reverse("tree-top"), HTTP_HX_REQUEST="true").status_code == 404


def test_a_thousand_top_level_resellers_keep_the_home_page_small_and_quick(root_client, db):
    add_top_resellers(5)
    root_client.get(reverse("console-home"))  # warm the session
    with CaptureQueriesContext(connection) as small:
        root_client.get(reverse("console-home"))
    add_top_resellers(MANY, start=5)
    with CaptureQueriesContext(connection) as large:
        response = root_client.get(reverse("console-home"))
    assert len(large) == len(small) <= 8
    page = response.content.decode()
    assert len(response.content) < 120_000
    assert "Operator test 0000" in page and f"Operator test {TREE_PAGE_SIZE - 1:04}" in page
    assert "Operator test 0100" not in page  # a page or "Show more" away
    assert "Show more" in page
    assert f">{MANY + 5}</span>" in page  # the table says how many there are


def test_show_more_loads_the_next_page_of_top_level_resellers(root_client, db):
    add_top_resellers(TREE_PAGE_SIZE + 3)
    response = root_client.get(reverse("tree-top"), {"page": 2}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Operator test {TREE_PAGE_SIZE:04}" in page
    assert "Operator test 0000" not in page and "Show more" not in page
    # Without JavaScript, the link opens the table's page that holds them.
    response = root_client.get(reverse("tree-top"), {"page": 2})
    table_page = TREE_PAGE_SIZE // TABLE_PAGE_SIZE + 1
    assert response.status_code == 302 and response["Location"] == f"/?page={table_page}"


@pytest.mark.parametrize(
    "name", ["reseller-pane", "reseller-history", "customer-add", "subreseller-add"]
)
def test_the_superuser_opens_the_panes_of_every_tenant(root_client, reseller_b, name):
    response = root_client.get(reverse(name, args=[reseller_b.code]))
    assert response.status_code == 200


def test_the_superuser_opens_customer_and_client_panes(root_client, customer_b1, client_b1):
    for url in [
        reverse("customer-pane", args=[customer_b1.code]),
        reverse("customer-edit", args=[customer_b1.code]),
        reverse("customer-history", args=[customer_b1.code]),
        reverse("client-pane", args=[client_b1.code]),
        reverse("client-history", args=[client_b1.code]),
    ]:
        assert root_client.get(url).status_code == 200, url


def test_the_breadcrumb_starts_at_the_top_level_reseller(root_client, customer_a_east):
    page = root_client.get(reverse("customer-pane", args=[customer_a_east.code])).content.decode()
    crumbs = page.split('class="console-breadcrumb"', 1)[1].split("</nav>", 1)[0]
    assert crumbs.index("Alpha Backup") < crumbs.index("Alpha East") < crumbs.index("East Widgets")


def test_the_superuser_adds_a_customer_under_another_top_level_reseller_and_history_names_them(
    root_client, reseller_b
):
    response = root_client.post(
        reverse("customer-add", args=[reseller_b.code]),
        {
            "name": "Operator Added",
            "contact_email": "ops@added.example",
            "usage_space_bytes": str(50 * GB),
            "trial_days": "30",
        },
    )
    assert response.status_code == 302
    customer = Node.objects.get(name="Operator Added")
    assert customer.parent == reseller_b
    event = AuditEvent.objects.get(action="customer.created", object_code=customer.code)
    assert event.actor.username == "root" and event.reseller == reseller_b
    history = root_client.get(reverse("reseller-history", args=[reseller_b.code]))
    assert "root" in history.content.decode() and "Customer added" in history.content.decode()


def test_bobs_history_names_the_superuser_who_acted(client, root, bob, reseller_b):
    client.force_login(root)
    client.post(reverse("subreseller-add", args=[reseller_b.code]), {"name": "Bravo North"})
    assert Node.objects.filter(name="Bravo North", parent=reseller_b).exists()
    client.force_login(bob)
    page = client.get(reverse("reseller-history", args=[reseller_b.code])).content.decode()
    assert "Reseller added" in page and ">root<" in page


def test_the_superuser_searches_every_tree(root_client, customer_a1, customer_b1):
    response = root_client.get(reverse("search"), {"q": "o"})
    assert response.status_code == 200
    page = root_client.get(reverse("search"), {"q": "Bolt"}).content.decode()
    assert reverse("customer-pane", args=[customer_b1.code]) in page
    page = root_client.get(reverse("search"), {"q": "Acme"}).content.decode()
    assert reverse("customer-pane", args=[customer_a1.code]) in page


def test_the_superuser_moves_a_client_only_within_its_top_level_resellers_tree(
    root_client, customer_a1, customer_a_east, customer_b1, client_b1
):
    url = reverse("client-move", args=[client_b1.code])
    page = root_client.get(url, {"q": ""}).content.decode()
    assert "Acme" not in page and "East Widgets" not in page
    response = root_client.post(url, {"customer": str(customer_a1.code)})
    assert response.status_code == 200  # the form's error: not a choice
    client_b1.refresh_from_db()
    assert client_b1.customer == customer_b1
