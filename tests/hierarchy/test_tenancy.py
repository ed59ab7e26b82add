"""Tenancy: an admin sees and changes only its reseller's subtree."""

import re
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients import access as client_access
from clients import services as client_services
from clients.models import Client
from hierarchy import access
from hierarchy.models import Node, reseller_of
from tests.conftest import PASSWORD


def test_alice_sees_her_whole_subtree_and_nothing_of_bravo(
    alice, customer_a1, client_a1, customer_a_east, customer_b1, client_b1
):
    visible = set(Node.objects.visible_to(alice).values_list("name", flat=True))
    assert visible == {"Alpha Backup", "Acme", "Alpha East", "East Widgets"}
    assert list(Client.objects.visible_to(alice)) == [client_a1]


def test_the_access_helpers_answer_404_for_another_resellers_objects(
    alice, bob, reseller_b, customer_b1, client_b1
):
    with pytest.raises(Http404):
        access.get_reseller_for_user(alice, reseller_b.code)
    with pytest.raises(Http404):
        access.get_customer_for_user(alice, customer_b1.code)
    with pytest.raises(Http404):
        access.get_node_for_user(alice, customer_b1.code)
    with pytest.raises(Http404):
        client_access.get_client_for_user(alice, client_b1.code)
    with pytest.raises(Http404):
        access.get_membership_for_user(alice, reseller_b.memberships.get().code)


def test_the_access_helpers_find_the_users_own_objects(alice, customer_a1, client_a1):
    assert access.get_customer_for_user(alice, customer_a1.code) == customer_a1
    assert client_access.get_client_for_user(alice, client_a1.code) == client_a1


def test_a_customer_code_is_not_a_reseller_code(alice, customer_a1):
    with pytest.raises(Http404):
        access.get_reseller_for_user(alice, customer_a1.code)


def test_a_sub_resellers_admin_cannot_see_its_parents_other_customers(
    sam, reseller_a, customer_a1, client_a1, customer_a_east
):
    visible = set(Node.objects.visible_to(sam).values_list("name", flat=True))
    assert visible == {"Alpha East", "East Widgets"}
    assert not Client.objects.visible_to(sam).exists()
    with pytest.raises(Http404):
        access.get_customer_for_user(sam, customer_a1.code)
    with pytest.raises(Http404):
        access.get_reseller_for_user(sam, reseller_a.code)


def test_a_login_without_membership_sees_nothing(django_user_model, customer_a1, client_a1):
    nobody = django_user_model.objects.create_user("nobody", password="x-Strong-pass-1")
    assert not Node.objects.visible_to(nobody).exists()
    assert not Client.objects.visible_to(nobody).exists()


def test_the_superuser_sees_every_reseller(root, customer_a1, customer_b1):
    assert set(Node.objects.visible_to(root).customers()) == {customer_a1, customer_b1}


def test_a_reseller_admin_cannot_use_the_django_admin(alice_client):
    response = alice_client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    response = alice_client.get("/admin/clients/client/")
    assert response.status_code == 302


def test_the_superuser_sees_the_tree_in_the_django_admin(root_client, customer_a1, client_a1):
    response = root_client.get("/admin/hierarchy/customer/")
    assert response.status_code == 200
    assert "Acme" in response.content.decode()
    response = root_client.get("/admin/clients/client/?q=a1@acme")
    assert "a1@acme.example" in response.content.decode()


# --- While the tree shifts -------------------------------------------------------------
# Deleting a customer shifts lft/rght of every node to its right. A scope read in one
# statement and applied in the next would then take in a neighbour's nodes, or drop the
# admin's own: every read decides the scope in the statement that reads the rows.

OLD_CUSTOMERS = 60


@pytest.fixture
def crowded(reseller_a, alice):
    """Alpha Backup with many old customers left of its sub-reseller Alpha East (sam's,
    with East Widgets and East Gadgets), and Zed Corp right of it: every deletion of an
    old customer moves Alpha East's window onto Zed Corp's place."""
    from hierarchy import memberships, services

    old = [
        services.create_customer(
            reseller_a,
            name=f"Old {i:02}",
            contact_email=f"o{i}@x.example",
            acting_user=None,
            origin="test",
        )
        for i in range(OLD_CUSTOMERS)
    ]
    east = services.create_reseller(reseller_a, name="Alpha East", acting_user=None, origin="test")
    widgets = services.create_customer(
        east, name="East Widgets", contact_email="w@x.example", acting_user=None, origin="test"
    )
    gadgets = services.create_customer(
        east, name="East Gadgets", contact_email="g@x.example", acting_user=None, origin="test"
    )
    zed = services.create_customer(
        reseller_a, name="Zed Corp", contact_email="z@x.example", acting_user=None, origin="test"
    )
    failed = {"last_backup_status": Client.BackupStatus.FAILED}
    east_client = client_services.create_client(
        widgets,
        securecloud_id="pc@widgets.example",
        password="client-pass-1",
        acting_user=None,
        origin="test",
    )
    zed_client = client_services.create_client(
        zed,
        securecloud_id="pc@zed.example",
        password="client-pass-1",
        acting_user=None,
        origin="test",
    )
    Client.objects.filter(pk__in=[east_client.pk, zed_client.pk]).update(**failed)
    sam = memberships.add_reseller_admin(
        east, username="sam", password=PASSWORD, acting_user=None, origin="test"
    ).user
    return SimpleNamespace(
        old=old, east=east, widgets=widgets, gadgets=gadgets, zed=zed,
        east_client=east_client, zed_client=zed_client, sam=sam, alice=alice,
    )  # fmt: skip


@contextmanager
def parent_deletes_a_customer_before_every_statement(world):
    """Alice deletes one of Alpha's old customers before each SELECT of the request."""
    from hierarchy import services

    pending, busy = world.old, False  # shared: each customer is deleted once
    before = len(pending)

    def wrapper(execute, sql, params, many, context):
        nonlocal busy
        if not busy and pending and sql.lstrip().upper().startswith("SELECT"):
            busy = True
            try:
                services.delete_customer(pending.pop(0), acting_user=world.alice, origin="test")
            finally:
                busy = False
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield
    assert len(pending) < before  # the tree did shift under the request


@pytest.fixture
def sam_http(client, crowded):
    client.force_login(crowded.sam)
    client.get("/")  # the session's first refresh
    return client


def get_while_shifting(http, world, url, **params):
    with parent_deletes_a_customer_before_every_statement(world):
        return http.get(url, params)


def test_a_sub_reseller_admin_never_reaches_its_parents_customer_while_the_tree_shifts(
    sam_http, crowded
):
    w = crowded
    for url in (
        reverse("customer-pane", args=[w.zed.code]),
        reverse("client-pane", args=[w.zed_client.code]),
        reverse("customer-history", args=[w.zed.code]),
    ):
        assert get_while_shifting(sam_http, w, url).status_code == 404, url
    assert w.zed.registration_key not in sam_http.get("/").content.decode()


def test_a_sub_reseller_admin_reaches_its_own_pages_while_the_tree_shifts(sam_http, crowded):
    w = crowded
    response = get_while_shifting(sam_http, w, reverse("customer-pane", args=[w.widgets.code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert w.widgets.registration_key in html
    assert "Zed Corp" not in html and "Old 2" not in html  # tree and breadcrumb
    response = get_while_shifting(sam_http, w, reverse("client-pane", args=[w.east_client.code]))
    assert response.status_code == 200
    response = get_while_shifting(sam_http, w, reverse("reseller-pane", args=[w.east.code]))
    assert response.status_code == 200
    assert "East Gadgets" in response.content.decode()


def breadcrumb(html: str) -> list[str]:
    nav = html[html.index('aria-label="Breadcrumb"') :]
    return re.findall(r'<a href="[^"]*"[^>]*>([^<]*)</a>', nav[: nav.index("</nav>")])


def test_the_breadcrumb_follows_the_tree_while_it_shifts(client, crowded):
    w = crowded
    client.force_login(w.alice)
    client.get("/")
    url = reverse("customer-pane", args=[w.widgets.code])
    html = get_while_shifting(client, w, url).content.decode()
    assert breadcrumb(html) == ["Alpha Backup", "Alpha East", "East Widgets"]


def test_search_lists_only_the_admins_subtree_while_the_tree_shifts(sam_http, crowded):
    w = crowded
    html = get_while_shifting(sam_http, w, reverse("search"), q="corp").content.decode()
    assert "Zed Corp" not in html
    html = get_while_shifting(sam_http, w, reverse("search"), q="example").content.decode()
    assert "pc@widgets.example" in html and "East Gadgets" in html
    assert "pc@zed.example" not in html and "Zed Corp" not in html


def test_health_lists_hold_only_the_subtree_while_the_tree_shifts(sam_http, crowded):
    w = crowded
    url = reverse("health-list", args=[w.east.code, "failed"])
    html = get_while_shifting(sam_http, w, url).content.decode()
    assert "pc@widgets.example" in html
    assert "pc@zed.example" not in html


def test_history_holds_only_the_subtree_while_the_tree_shifts(sam_http, crowded):
    w = crowded
    url = reverse("reseller-history", args=[w.east.code])
    html = get_while_shifting(sam_http, w, url).content.decode()
    assert "East Widgets" in html and "East Gadgets" in html
    assert "Zed Corp" not in html and "Old 0" not in html


def test_the_move_form_offers_and_takes_only_the_subtree_while_the_tree_shifts(sam_http, crowded):
    w = crowded
    url = reverse("client-move", args=[w.east_client.code])
    html = get_while_shifting(sam_http, w, url).content.decode()
    assert "East Gadgets" in html
    assert "Zed Corp" not in html
    with parent_deletes_a_customer_before_every_statement(w):
        response = sam_http.post(url, {"customer": str(w.zed.code)})
    assert response.status_code == 200
    assert "Choose one of the customers listed." in response.content.decode()
    with parent_deletes_a_customer_before_every_statement(w):
        response = sam_http.post(url, {"customer": str(w.gadgets.code)})
    assert response.status_code == 302
    assert Client.objects.get(pk=w.east_client.pk).customer == w.gadgets


def test_the_access_helpers_decide_in_the_statement_that_reads(crowded):
    """The scope is no window read earlier: each helper is one statement, whose scope
    follows the admin's reseller wherever the tree has moved it since."""
    w = crowded
    sam = w.sam
    reseller_of(sam)  # the membership is read (and kept on the user) first
    with parent_deletes_a_customer_before_every_statement(w):
        assert access.get_customer_for_user(sam, w.widgets.code) == w.widgets
        with pytest.raises(Http404):
            access.get_customer_for_user(sam, w.zed.code)
        assert client_access.get_client_for_user(sam, w.east_client.code) == w.east_client
        with pytest.raises(Http404):
            client_access.get_client_for_user(sam, w.zed_client.code)
        assert set(Node.objects.visible_to(sam).customers()) == {w.widgets, w.gadgets}
    with CaptureQueriesContext(connection) as queries:
        access.get_customer_for_user(sam, w.widgets.code)
    assert len(queries) == 1


def test_a_sub_resellers_two_factor_requirement_holds_while_the_tree_shifts(crowded):
    from django.contrib.auth import get_user_model

    from securecloud.accounts import twofactor

    Node.objects.filter(pk=crowded.east.pk).update(require_two_factor=True)
    sam = get_user_model().objects.get(pk=crowded.sam.pk)  # nothing cached on it
    with parent_deletes_a_customer_before_every_statement(crowded):
        assert twofactor.two_factor_required(sam)
