"""Tenancy: an admin sees and changes only its reseller's subtree."""

import pytest
from django.http import Http404

from clients.models import Client
from hierarchy import access
from hierarchy.models import Node


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
        access.get_client_for_user(alice, client_b1.code)
    with pytest.raises(Http404):
        access.get_membership_for_user(alice, reseller_b.memberships.get().code)


def test_the_access_helpers_find_the_users_own_objects(alice, customer_a1, client_a1):
    assert access.get_customer_for_user(alice, customer_a1.code) == customer_a1
    assert access.get_client_for_user(alice, client_a1.code) == client_a1


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
