"""The Django admin (superusers only) writes through the services."""

import pytest
from django.core.exceptions import ValidationError

from clients.models import Client
from hierarchy import memberships, services
from hierarchy.models import Node
from tests.tree_invariants import assert_tree_valid


def test_switch_to_paid_action(root_client, client_a1):
    response = root_client.post(
        "/admin/clients/client/",
        {"action": "switch_to_paid", "_selected_action": [client_a1.pk]},
    )
    assert response.status_code == 302
    client_a1.refresh_from_db()
    assert client_a1.plan == Client.Plan.PAID and client_a1.trial_ends_at is None


def test_enable_and_disable_auto_authorization_actions(root_client, customer_a1):
    root_client.post(
        "/admin/hierarchy/customer/",
        {"action": "enable_auto_authorization", "_selected_action": [customer_a1.pk]},
    )
    customer_a1.refresh_from_db()
    assert customer_a1.auto_add_clients is True
    root_client.post(
        "/admin/hierarchy/customer/",
        {"action": "disable_auto_authorization", "_selected_action": [customer_a1.pk]},
    )
    customer_a1.refresh_from_db()
    assert customer_a1.auto_add_clients is False


def _customer_form(parent, **overrides):
    data = {
        "name": "Admin Made",
        "parent": parent.pk,
        "contact_name": "",
        "usage_space_bytes": "",
        "contact_email": "made@example.com",
        "trial_days": 30,
    }
    data.update(overrides)
    return data


def test_adding_a_customer_in_the_admin_makes_a_valid_tree_node(root_client, reseller_a):
    response = root_client.post("/admin/hierarchy/customer/add/", _customer_form(reseller_a))
    assert response.status_code == 302
    customer = Node.objects.customers().get(name="Admin Made")
    assert customer.parent == reseller_a and customer.usage_space_bytes is None
    assert customer.registration_key
    assert_tree_valid()


def test_the_admin_refuses_a_duplicate_customer_name_inline(root_client, reseller_a, customer_a1):
    response = root_client.post(
        "/admin/hierarchy/customer/add/", _customer_form(reseller_a, name="ACME")
    )
    assert response.status_code == 200
    assert "already has a customer with this name" in response.content.decode()


def test_moving_a_customer_in_the_admin_keeps_its_clients(
    root_client, customer_a1, client_a1, reseller_b
):
    response = root_client.post(
        f"/admin/hierarchy/customer/{customer_a1.pk}/change/",
        _customer_form(
            reseller_b,
            name="Acme",
            contact_email="it@acme.example",
            usage_space_bytes=50 * 10**9,
            email_reports="on",
        ),
    )
    assert response.status_code == 302
    customer_a1.refresh_from_db()
    assert customer_a1.parent == reseller_b
    assert list(customer_a1.clients.all()) == [client_a1]
    assert_tree_valid()


def test_adding_a_client_in_the_admin_follows_the_password_rule(root_client, customer_a1):
    form = {
        "customer": customer_a1.pk,
        "securecloud_id": "New@Acme.example",
        "name": "",
        "email": "",
        "password": "",
    }
    response = root_client.post("/admin/clients/client/add/", form)
    assert response.status_code == 200
    assert "you must enter a password" in response.content.decode()
    assert not Client.objects.filter(securecloud_id="new@acme.example").exists()
    response = root_client.post("/admin/clients/client/add/", {**form, "password": "pw-123456789"})
    assert response.status_code == 302
    assert Client.objects.get(securecloud_id="new@acme.example").plan == Client.Plan.TRIAL


def test_the_admin_refuses_a_client_password_of_spaces(root_client, customer_a_east):
    # Auto-authorization is on there: stripped, eight spaces would pass as "no password".
    form = {"customer": customer_a_east.pk, "securecloud_id": "spaces@east.example"}
    response = root_client.post("/admin/clients/client/add/", {**form, "password": " " * 8})
    assert response.status_code == 200
    assert "A password cannot be only spaces." in response.content.decode()
    assert not Client.objects.filter(securecloud_id="spaces@east.example").exists()


def test_adding_a_sub_reseller_in_the_admin(root_client, reseller_a):
    response = root_client.post(
        "/admin/hierarchy/reseller/add/", {"name": "Alpha West", "parent": reseller_a.pk}
    )
    assert response.status_code == 302
    assert Node.objects.resellers().get(name="Alpha West").parent == reseller_a
    response = root_client.post("/admin/hierarchy/reseller/add/", {"name": "alpha BACKUP"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    response = root_client.post(
        "/admin/hierarchy/reseller/add/", {"name": "ALPHA WEST", "parent": reseller_a.pk}
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    # A sub-reseller's name in one tenant's tree does not keep it from a new tenant.
    response = root_client.post("/admin/hierarchy/reseller/add/", {"name": "alpha west"})
    assert response.status_code == 302
    assert Node.objects.resellers().get(name="alpha west").parent is None
    assert_tree_valid()


def test_the_admin_client_search_and_reseller_filter(root_client, client_a1, client_b1):
    html = root_client.get(
        f"/admin/clients/client/?reseller={client_a1.customer.parent.code}"
    ).content.decode()
    assert "a1@acme.example" in html and "b1@bolt.example" not in html
    html = root_client.get("/admin/clients/client/?q=bolt").content.decode()
    assert "b1@bolt.example" in html and "a1@acme.example" not in html


def test_deleting_a_reseller_in_the_admin_goes_through_the_service(
    root_client, reseller_a, sub_reseller_a, sam
):
    from hierarchy.models import AuditEvent, Membership

    # A reseller with sub-resellers is refused (by the admin's protected-objects page
    # here; by the service itself anywhere else).
    response = root_client.post(
        f"/admin/hierarchy/reseller/{reseller_a.pk}/delete/", {"post": "yes"}
    )
    assert "Cannot delete reseller" in response.content.decode()
    assert Node.objects.filter(pk=reseller_a.pk).exists()
    with pytest.raises(ValidationError, match="still has customers or sub-resellers"):
        services.delete_reseller(reseller_a, acting_user=None, origin="test")
    root_client.post(f"/admin/hierarchy/reseller/{sub_reseller_a.pk}/delete/", {"post": "yes"})
    assert not Node.objects.filter(pk=sub_reseller_a.pk).exists()
    assert not Membership.objects.filter(user=sam).exists()
    event = AuditEvent.objects.get(action="reseller.deleted")
    assert event.reseller == reseller_a and event.changes == {"name": ["Alpha East", None]}
    assert_tree_valid()


def test_memberships_are_read_only_in_the_admin_and_removal_is_audited(root_client, alice, bob):
    from hierarchy.models import AuditEvent, Membership

    assert root_client.get("/admin/hierarchy/membership/add/").status_code == 403
    membership = bob.membership
    root_client.post(f"/admin/hierarchy/membership/{membership.pk}/delete/", {"post": "yes"})
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.get(action="admin.removed").changes == {"username": ["bob", None]}


def test_removing_an_operators_membership_keeps_the_operators_login(reseller_a, root):
    from django.contrib.auth import get_user_model

    from hierarchy.models import Membership

    membership = Membership.objects.create(user=root, reseller=reseller_a)
    memberships.remove_reseller_admin(membership, acting_user=None, origin="test")
    assert get_user_model().objects.filter(pk=root.pk).exists()
    assert not Membership.objects.filter(user=root).exists()
