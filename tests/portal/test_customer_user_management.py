"""A customer's users page: the reseller's Administrators and Technicians invite a user
of the customer (an emailed link, once), and remove one; every write is audited. Those
who may not manage customers only read it; another tenant's customer is a 404."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from hierarchy import memberships
from hierarchy.models import AuditEvent, Membership
from securecloud.accounts.models import Invitation
from tests.conftest import PASSWORD
from tests.test_invitations import NEW_PASSWORD, accept, link_in


def _admin(reseller, role):
    return memberships.add_reseller_admin(
        reseller, username=f"{role}-x", password=PASSWORD, role=role, acting_user=None, origin="t"
    ).user


@pytest.mark.parametrize("role", [Membership.Role.ADMINISTRATOR, Membership.Role.TECHNICIAN])
def test_an_invited_customer_user_signs_in_to_its_customer(
    client, reseller_a, customer_a1, mailoutbox, role
):
    client.force_login(_admin(reseller_a, role))
    answer = client.post(
        reverse("customer-user-invite", args=[customer_a1.code]), {"email": "ann@acme.example"}
    )
    assert answer.status_code == 302
    assert answer["Location"] == reverse("customer-users", args=[customer_a1.code])
    invitation = Invitation.objects.get(email="ann@acme.example")
    assert invitation.reseller == customer_a1
    assert invitation.role == Membership.Role.CUSTOMER
    page = client.get(answer["Location"]).content.decode()
    assert "ann@acme.example" in page
    sent = AuditEvent.objects.get(action="invitation.sent")
    assert sent.reseller_id == reseller_a.pk and sent.customer_code == customer_a1.code

    client.logout()
    assert accept(client, link_in(mailoutbox[0]), username="ann").status_code == 302
    ann = get_user_model().objects.get(username="ann")
    assert ann.membership.reseller == customer_a1
    assert ann.membership.role == Membership.Role.CUSTOMER
    client.post(reverse("login"), {"username": "ann", "password": NEW_PASSWORD})
    home = client.get("/")
    assert home["Location"] == reverse("customer-pane", args=[customer_a1.code])


def test_the_reseller_removes_a_customer_user_and_it_is_audited(
    alice_client, alice, carol, customer_a1
):
    page = alice_client.get(reverse("customer-users", args=[customer_a1.code])).content.decode()
    assert "carol" in page
    answer = alice_client.post(reverse("customer-user-remove", args=[carol.membership.code]))
    assert answer.status_code == 302
    assert not get_user_model().objects.filter(username="carol").exists()
    event = AuditEvent.objects.get(action="customer_user.removed")
    assert event.actor == alice and event.customer_code == customer_a1.code


def test_an_admin_login_is_not_removed_as_a_customer_user(alice_client, reseller_a, sam):
    answer = alice_client.post(reverse("customer-user-remove", args=[sam.membership.code]))
    assert answer.status_code == 404
    assert get_user_model().objects.filter(username="sam").exists()


def test_a_read_only_admin_sees_the_users_but_may_not_invite_or_remove(
    client, reseller_a, customer_a1, carol
):
    client.force_login(_admin(reseller_a, Membership.Role.READ_ONLY))
    page = client.get(reverse("customer-users", args=[customer_a1.code])).content.decode()
    assert "carol" in page
    assert reverse("customer-user-invite", args=[customer_a1.code]) not in page
    invite = client.post(
        reverse("customer-user-invite", args=[customer_a1.code]), {"email": "x@acme.example"}
    )
    assert invite.status_code == 403
    assert (
        client.post(reverse("customer-user-remove", args=[carol.membership.code])).status_code
        == 403
    )
    assert not Invitation.objects.exists()


def test_a_customer_user_does_not_manage_users(carol_client, carol, customer_a1):
    invite = carol_client.post(
        reverse("customer-user-invite", args=[customer_a1.code]), {"email": "x@acme.example"}
    )
    assert invite.status_code == 403
    remove = carol_client.post(reverse("customer-user-remove", args=[carol.membership.code]))
    assert remove.status_code == 403


def test_another_tenants_customer_users_are_not_found(bob_client, carol, customer_a1):
    assert bob_client.get(reverse("customer-users", args=[customer_a1.code])).status_code == 404
    remove = bob_client.post(reverse("customer-user-remove", args=[carol.membership.code]))
    assert remove.status_code == 404
    invite = bob_client.post(
        reverse("customer-user-invite", args=[customer_a1.code]), {"email": "x@acme.example"}
    )
    assert invite.status_code == 404


def test_a_bad_email_is_refused_with_a_message(alice_client, customer_a1):
    answer = alice_client.post(
        reverse("customer-user-invite", args=[customer_a1.code]),
        {"email": "not an email"},
        follow=True,
    )
    assert answer.status_code == 200
    assert "valid email" in answer.content.decode()
    assert not Invitation.objects.exists()
