"""A customer user: a customer's own login. It sees its customer and its clients, and
nothing else; it changes clients only when its reseller lets customers add clients."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients.models import Client
from hierarchy import customer_user_settings, memberships
from hierarchy.models import AuditEvent, Membership
from securecloud.accounts.permissions import Action, may
from tests.conftest import PASSWORD


def _allow_customers_to_add_clients(reseller, allowed=True):
    customer_user_settings.set_customer_user_settings(
        reseller,
        customers_may_add_clients=allowed,
        require_two_factor_customer_users=False,
        acting_user=None,
        origin="test",
    )


def test_a_customer_users_home_is_its_customers_pane(carol_client, customer_a1):
    answer = carol_client.get(reverse("console-home"))
    assert answer.status_code == 302
    assert answer.url == reverse("customer-pane", args=[customer_a1.code])
    pane = carol_client.get(answer.url)
    assert pane.status_code == 200
    assert "Acme" in pane.content.decode()


def test_a_customer_user_sees_its_clients(carol_client, client_a1):
    answer = carol_client.get(reverse("client-pane", args=[client_a1.code]))
    assert answer.status_code == 200
    assert "a1@acme.example" in answer.content.decode()


def test_other_customers_and_the_resellers_answer_404(
    carol_client, reseller_a, sub_reseller_a, customer_a_east, customer_b1, client_b1
):
    for url in (
        reverse("reseller-pane", args=[reseller_a.code]),
        reverse("reseller-pane", args=[sub_reseller_a.code]),
        reverse("reseller-history", args=[reseller_a.code]),
        reverse("customer-pane", args=[customer_a_east.code]),
        reverse("customer-pane", args=[customer_b1.code]),
        reverse("customer-history", args=[customer_b1.code]),
        reverse("client-pane", args=[client_b1.code]),
        reverse("tree-children", args=[reseller_a.code]),
    ):
        assert carol_client.get(url).status_code == 404, url


def test_without_the_resellers_setting_a_customer_user_only_reads(
    carol_client, carol, customer_a1, client_a1
):
    assert not may(carol, Action.ADD_CLIENTS)
    assert carol_client.get(reverse("client-add", args=[customer_a1.code])).status_code == 403
    answer = carol_client.post(
        reverse("client-reset-password", args=[client_a1.code]),
        {"password": "New-pass-2026", "password2": "New-pass-2026"},
    )
    assert answer.status_code == 403
    for name in ("client-edit", "client-switch-to-paid", "client-move", "client-delete"):
        assert carol_client.post(reverse(name, args=[client_a1.code])).status_code == 403
    assert carol_client.get(reverse("customer-edit", args=[customer_a1.code])).status_code == 403
    pane = carol_client.get(reverse("customer-pane", args=[customer_a1.code])).content.decode()
    assert reverse("client-add", args=[customer_a1.code]) not in pane


def test_with_the_setting_a_customer_user_adds_clients_and_resets_passwords(
    carol_client, carol, reseller_a, customer_a1, client_a1
):
    _allow_customers_to_add_clients(reseller_a)
    pane = carol_client.get(reverse("customer-pane", args=[customer_a1.code])).content.decode()
    assert reverse("client-add", args=[customer_a1.code]) in pane
    answer = carol_client.post(
        reverse("client-add", args=[customer_a1.code]),
        {
            "securecloud_id": "new@acme.example",
            "password": "Client-pass-2026",
            "password2": "Client-pass-2026",
        },
    )
    assert answer.status_code == 302
    new = Client.objects.get(securecloud_id="new@acme.example")
    assert new.customer == customer_a1
    answer = carol_client.post(
        reverse("client-reset-password", args=[client_a1.code]),
        {"password": "New-pass-2026", "password2": "New-pass-2026"},
    )
    assert answer.status_code == 302
    # Everything else about clients stays the reseller's.
    for name in ("client-edit", "client-move", "client-delete"):
        assert carol_client.post(reverse(name, args=[client_a1.code])).status_code == 403


def test_the_setting_is_the_customers_own_resellers(
    client, reseller_a, sub_reseller_a, customer_a_east
):
    """A sub-reseller's customers follow the sub-reseller's setting, not the top's."""
    dave = memberships.add_customer_user(
        customer_a_east, username="dave", password=PASSWORD, acting_user=None, origin="test"
    ).user
    _allow_customers_to_add_clients(reseller_a)
    dave = type(dave).objects.get(pk=dave.pk)
    assert not may(dave, Action.ADD_CLIENTS)
    _allow_customers_to_add_clients(sub_reseller_a)
    dave = type(dave).objects.get(pk=dave.pk)
    assert may(dave, Action.ADD_CLIENTS)


def test_an_administrator_sets_the_customer_user_settings_and_it_is_audited(
    alice_client, reseller_a
):
    answer = alice_client.post(
        reverse("reseller-customer-user-settings", args=[reseller_a.code]),
        {"customers_may_add_clients": "on"},
    )
    assert answer.status_code == 302
    reseller_a.refresh_from_db()
    assert reseller_a.customers_may_add_clients
    assert not reseller_a.require_two_factor_customer_users
    event = AuditEvent.objects.get(action="reseller.customer_user_settings")
    assert event.changes == {"customers_may_add_clients": [False, True]}
    pane = alice_client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert "Customers may add clients" in pane


def test_a_technician_may_not_change_the_customer_user_settings(client, reseller_a):
    tech = memberships.add_reseller_admin(
        reseller_a,
        username="tech",
        password=PASSWORD,
        role=Membership.Role.TECHNICIAN,
        acting_user=None,
        origin="test",
    ).user
    client.force_login(tech)
    answer = client.post(
        reverse("reseller-customer-user-settings", args=[reseller_a.code]),
        {"customers_may_add_clients": "on"},
    )
    assert answer.status_code == 403
    reseller_a.refresh_from_db()
    assert not reseller_a.customers_may_add_clients


def test_a_customer_user_belongs_to_a_customer_and_an_admin_to_a_reseller(reseller_a, customer_a1):
    with pytest.raises(ValidationError):
        memberships.add_customer_user(
            reseller_a, username="x", password=PASSWORD, acting_user=None, origin="test"
        )
    with pytest.raises(ValidationError):
        memberships.add_reseller_admin(
            reseller_a,
            username="y",
            password=PASSWORD,
            role=Membership.Role.CUSTOMER,
            acting_user=None,
            origin="test",
        )


def test_adding_a_customer_user_is_audited_under_its_customer(carol, reseller_a, customer_a1):
    event = AuditEvent.objects.get(action="customer_user.added")
    assert event.reseller_id == reseller_a.pk
    assert event.customer_code == customer_a1.code


def test_the_admin_forms_do_not_offer_the_customer_user_role(alice_client, reseller_a):
    pane = alice_client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert "Customer user" not in pane
