"""Admins are invited by email instead of being shown a password: the link works once,
expires after 72 hours, stops working when revoked, and only an Administrator invites,
resends or revokes (another tenant's invitation is a 404)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from hierarchy import memberships
from hierarchy.models import AuditEvent, Membership
from securecloud.accounts import invitations
from securecloud.accounts.models import Invitation
from tests.conftest import PASSWORD

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NEW_PASSWORD = "Tina-Chose-This-7"


@pytest.fixture
def clock(monkeypatch):
    """Server time, settable: the invitations read timezone.now()."""

    class Clock:
        now = NOON

    monkeypatch.setattr(timezone, "now", lambda: Clock.now)
    return Clock


def invite(alice_client, reseller, email="tina@alpha.example", role="technician"):
    response = alice_client.post(
        reverse("admin-add", args=[reseller.code]), {"email": email, "role": role}
    )
    assert response.status_code == 302
    return Invitation.objects.get(email=email)


def link_in(message) -> str:
    match = re.search(r"https?://[^/\s]+(/invitation/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def accept(client, path, username="tina", password=NEW_PASSWORD):
    return client.post(path, {"username": username, "password1": password, "password2": password})


def test_the_email_link_creates_the_login_with_the_role(
    alice_client, client, reseller_a, mailoutbox
):
    invitation = invite(alice_client, reseller_a)
    path = link_in(mailoutbox[0])
    alice_client.logout()
    page = client.get(path)
    assert page.status_code == 200
    assert "Technician" in page.content.decode()
    response = accept(client, path)
    assert response.status_code == 302 and response["Location"] == reverse("login")
    tina = get_user_model().objects.get(username="tina")
    assert tina.check_password(NEW_PASSWORD)
    assert tina.email == "tina@alpha.example"
    assert tina.membership.reseller == reseller_a
    assert tina.membership.role == Membership.Role.TECHNICIAN
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    signed_in = client.post(reverse("login"), {"username": "tina", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def test_only_a_digest_of_the_token_is_stored(alice_client, reseller_a, mailoutbox):
    invitation = invite(alice_client, reseller_a)
    token = link_in(mailoutbox[0]).rstrip("/").rsplit("/", 1)[1]
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    assert invitation.token_digest == invitations.digest(token)


def test_the_link_works_once(alice_client, client, reseller_a, mailoutbox):
    invite(alice_client, reseller_a)
    path = link_in(mailoutbox[0])
    alice_client.logout()
    assert accept(client, path).status_code == 302
    again = accept(client, path, username="tina2")
    assert again.status_code == 200
    assert invitations.USED in again.content.decode()
    assert not get_user_model().objects.filter(username="tina2").exists()
    assert invitations.USED in client.get(path).content.decode()


def test_the_link_expires_after_72_hours(alice_client, client, reseller_a, mailoutbox, clock):
    invite(alice_client, reseller_a)
    path = link_in(mailoutbox[0])
    alice_client.logout()
    clock.now = NOON + timedelta(hours=71, minutes=59)
    assert client.get(path).status_code == 200
    assert "Create my login" in client.get(path).content.decode()
    clock.now = NOON + timedelta(hours=72)
    response = accept(client, path)
    assert response.status_code == 200
    assert invitations.EXPIRED_MESSAGE in response.content.decode()
    assert not get_user_model().objects.filter(username="tina").exists()
    assert AuditEvent.objects.filter(action=invitations.EXPIRED, reseller=reseller_a).exists()


def test_a_resent_invitation_has_a_new_link_and_72_more_hours(
    alice_client, client, reseller_a, alice, mailoutbox, clock
):
    invitation = invite(alice_client, reseller_a)
    old = link_in(mailoutbox[0])
    clock.now = NOON + timedelta(hours=80)
    alice_client.force_login(alice)  # a new session: the old one timed out meanwhile
    alice_client.post(reverse("invitation-resend", args=[invitation.code]))
    new = link_in(mailoutbox[1])
    assert new != old
    alice_client.logout()
    assert invitations.NOT_VALID in client.get(old).content.decode()
    clock.now = NOON + timedelta(hours=80 + 71)
    assert accept(client, new).status_code == 302


def test_a_revoked_invitation_cannot_be_used(alice_client, client, reseller_a, mailoutbox):
    invitation = invite(alice_client, reseller_a)
    path = link_in(mailoutbox[0])
    response = alice_client.post(reverse("invitation-revoke", args=[invitation.code]))
    assert response.status_code == 302
    pane = alice_client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert "Pending invitations" not in pane
    alice_client.logout()
    response = accept(client, path)
    assert response.status_code == 200
    assert invitations.REVOKED_MESSAGE in response.content.decode()
    assert not get_user_model().objects.filter(username="tina").exists()


def test_an_unknown_link_says_so(client, db):
    response = client.get(reverse("invitation-accept", args=["not-a-token"]))
    assert response.status_code == 200
    assert invitations.NOT_VALID in response.content.decode()
    assert accept(client, reverse("invitation-accept", args=["x" * 500])).status_code == 200


def test_the_password_rules_and_a_taken_username_are_inline_errors(
    alice_client, client, reseller_a, alice, mailoutbox
):
    invite(alice_client, reseller_a)
    path = link_in(mailoutbox[0])
    alice_client.logout()
    weak = accept(client, path, password="123")
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    taken = accept(client, path, username="ALICE")
    assert "This username is taken." in taken.content.decode()
    differ = client.post(path, {"username": "tina", "password1": "A-b-c-d-1234", "password2": "x"})
    assert "The two passwords differ." in differ.content.decode()
    assert Invitation.objects.get().accepted_at is None


def test_the_pane_lists_pending_invitations(alice_client, reseller_a, mailoutbox, clock):
    invite(alice_client, reseller_a, email="tina@alpha.example", role="technician")
    page = alice_client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert "Pending invitations" in page
    assert "tina@alpha.example" in page and "Technician" in page
    assert "2026-03-02 12:00" in page and "2026-03-05 12:00" in page  # sent, expires


def test_each_step_is_in_the_history(alice_client, client, reseller_a, mailoutbox):
    invitation = invite(alice_client, reseller_a)
    alice_client.post(reverse("invitation-resend", args=[invitation.code]))
    path = link_in(mailoutbox[1])
    other = invite(alice_client, reseller_a, email="other@alpha.example")
    alice_client.post(reverse("invitation-revoke", args=[other.code]))
    history = alice_client.get(reverse("reseller-history", args=[reseller_a.code]))
    alice_client.logout()
    accept(client, path)
    actions = set(AuditEvent.objects.filter(reseller=reseller_a).values_list("action", flat=True))
    assert {
        invitations.SENT,
        invitations.RESENT,
        invitations.REVOKED,
        invitations.ACCEPTED,
    } <= actions
    assert "Admin invited" in history.content.decode()


@pytest.mark.parametrize("role", ["technician", "read_only", "billing"])
def test_only_an_administrator_invites_resends_or_revokes(client, reseller_a, alice, role):
    other = memberships.add_reseller_admin(
        reseller_a,
        username="other",
        email="other@alpha.example",
        password=PASSWORD,
        role=role,
        acting_user=None,
        origin="test",
    ).user
    invitation = invitations.invite_admin(
        reseller_a, email="tina@alpha.example", role="technician", acting_user=alice, origin="t"
    ).invitation
    client.force_login(other)
    urls = [
        (reverse("admin-add", args=[reseller_a.code]), {"email": "x@alpha.example"}),
        (reverse("invitation-resend", args=[invitation.code]), {}),
        (reverse("invitation-revoke", args=[invitation.code]), {}),
    ]
    for url, data in urls:
        assert client.post(url, data).status_code == 403, url
    invitation.refresh_from_db()
    assert invitation.is_pending
    assert Invitation.objects.count() == 1
    page = client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert reverse("invitation-revoke", args=[invitation.code]) not in page


def test_another_tenants_invitation_is_a_404(bob_client, reseller_a, alice):
    invitation = invitations.invite_admin(
        reseller_a, email="tina@alpha.example", role="technician", acting_user=alice, origin="t"
    ).invitation
    for name in ("invitation-resend", "invitation-revoke"):
        assert bob_client.post(reverse(name, args=[invitation.code])).status_code == 404
    invitation.refresh_from_db()
    assert invitation.is_pending


def test_the_same_address_is_not_invited_twice_or_when_already_an_admin(
    alice_client, reseller_a, alice, mailoutbox
):
    invite(alice_client, reseller_a)
    twice = alice_client.post(
        reverse("admin-add", args=[reseller_a.code]), {"email": "TINA@alpha.example"}
    )
    assert "already has a pending invitation" in twice.content.decode()
    admin = alice_client.post(
        reverse("admin-add", args=[reseller_a.code]), {"email": "alice@alpha.example"}
    )
    assert "already an admin here" in admin.content.decode()
    assert Invitation.objects.count() == 1
