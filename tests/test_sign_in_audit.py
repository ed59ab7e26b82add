"""Sign-ins, failed sign-ins, sign-outs, second-factor checks and new passwords are in
the audit log, each with who, when and from which address, filed under the login's
reseller (so its History shows them); a username that no login has is filed under no
reseller and shows in no reseller's History. No event ever holds a password."""

import re

from django.contrib.auth import get_user_model
from django.urls import reverse

from hierarchy.models import AuditEvent
from tests.conftest import PASSWORD

WRONG = "Wrong-Guess-31337"
NEW_PASSWORD = "Brand-New-Secret-7"


def sign_in(client, username, password, ip="203.0.113.5"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def history_of(client, reseller) -> str:
    return client.get(reverse("reseller-history", args=[reseller.code])).content.decode()


def rows_with(page: str, text: str) -> list[str]:
    return [row for row in re.findall(r"<tr>.*?</tr>", page, re.DOTALL) if text in row]


def assert_no_password_in_the_log(*passwords):
    for event in AuditEvent.objects.all():
        stored = " ".join(
            str(value)
            for value in (event.actor_label, event.origin, event.object_repr, event.changes)
        )
        for password in passwords:
            assert password not in stored, (event.action, stored)


def test_a_sign_in_is_in_the_resellers_history_with_the_address(client, alice, reseller_a):
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action="login.signed_in")
    assert event.actor == alice and event.reseller == reseller_a
    assert event.origin == "console 203.0.113.5"
    row = rows_with(history_of(client, reseller_a), "Signed in")
    assert len(row) == 1 and "alice" in row[0] and "203.0.113.5" in row[0]


def test_a_failed_sign_in_of_a_known_admin_is_filed_under_its_reseller(
    client, alice, reseller_a, reseller_b, bob
):
    assert sign_in(client, "alice", WRONG, ip="198.51.100.7").status_code == 200
    event = AuditEvent.objects.get(action="login.sign_in_failed")
    assert event.actor is None  # nobody signed in: the attempt names the login tried
    assert event.actor_label == "alice" and event.reseller == reseller_a
    assert event.changes == {"username": [None, "alice"]}
    client.force_login(alice)
    row = rows_with(history_of(client, reseller_a), "Sign-in failed")
    assert len(row) == 1 and "alice" in row[0] and "198.51.100.7" in row[0]
    client.force_login(bob)
    assert "Sign-in failed" not in history_of(client, reseller_b)
    assert_no_password_in_the_log(WRONG)


def test_a_failed_sign_in_with_an_unknown_username_leaks_into_no_history(
    client, alice, reseller_a, sub_reseller_a, reseller_b, bob, root
):
    sign_in(client, "mallory", WRONG, ip="198.51.100.9")
    event = AuditEvent.objects.get(action="login.sign_in_failed")
    assert event.actor is None and event.reseller is None and event.customer_code is None
    assert event.actor_label == "mallory" and event.origin == "console 198.51.100.9"
    for user, reseller in [(alice, reseller_a), (alice, sub_reseller_a), (bob, reseller_b)]:
        client.force_login(user)
        assert "mallory" not in history_of(client, reseller)
        assert not AuditEvent.objects.visible_to(user).filter(pk=event.pk).exists()
    # The operator finds it in the Django admin's audit log.
    client.force_login(root)
    assert "mallory" in client.get("/admin/hierarchy/auditevent/").content.decode()
    assert_no_password_in_the_log(WRONG)


def test_a_locked_out_attempt_is_recorded_once_and_the_lockout_holds(client, alice):
    for _ in range(4):
        assert sign_in(client, "alice", WRONG).status_code == 200
    assert sign_in(client, "alice", WRONG).status_code == 429  # the fifth locks out
    assert sign_in(client, "alice", PASSWORD).status_code == 429  # even the right one
    assert "_auth_user_id" not in client.session
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    logins = [action for action in actions if action.startswith("login.")]
    assert logins == ["login.sign_in_failed"] * 4 + ["login.locked_out"] * 2
    assert_no_password_in_the_log(WRONG, PASSWORD)


def test_a_sign_out_is_recorded(client, alice):
    sign_in(client, "alice", PASSWORD)
    client.post(reverse("logout"), REMOTE_ADDR="203.0.113.5")
    event = AuditEvent.objects.get(action="login.signed_out")
    assert event.actor == alice and event.origin == "console 203.0.113.5"


def test_a_password_change_is_in_the_history(alice_client, alice, reseller_a):
    response = alice_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        REMOTE_ADDR="203.0.113.8",
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="login.password_changed")
    assert event.actor == alice and event.reseller == reseller_a
    row = rows_with(history_of(alice_client, reseller_a), "Password changed")
    assert len(row) == 1 and "203.0.113.8" in row[0]
    assert_no_password_in_the_log(PASSWORD, NEW_PASSWORD)


def test_a_refused_password_change_records_nothing(alice_client):
    alice_client.post(
        reverse("password_change"),
        {"old_password": WRONG, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert not AuditEvent.objects.filter(action="login.password_changed").exists()


def test_a_reset_from_the_emailed_link_is_in_the_history(client, alice, reseller_a, mailoutbox):
    client.post(reverse("password_reset"), {"email": "alice@alpha.example"})
    link = re.search(r"https?://[^/\s]+(/account/reset/\S+/)", mailoutbox[0].body).group(1)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(
        set_url,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 302
    assert get_user_model().objects.get(username="alice").check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="login.password_reset")
    assert event.actor == alice and event.reseller == reseller_a
    assert event.origin == "console 192.0.2.44"
    alice.refresh_from_db()  # its new password's session hash
    client.force_login(alice)
    row = rows_with(history_of(client, reseller_a), "Password reset from an emailed link")
    assert len(row) == 1 and "192.0.2.44" in row[0]
    assert_no_password_in_the_log(NEW_PASSWORD)


def test_a_password_set_by_a_superuser_in_the_django_admin_is_in_the_history(
    client, root, alice, reseller_a
):
    client.force_login(root)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[alice.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        REMOTE_ADDR="192.0.2.50",
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="login.password_set")
    assert event.actor == root and event.reseller == reseller_a
    assert event.origin == "admin 192.0.2.50"
    row = rows_with(history_of(client, reseller_a), "Password set in the Django admin")
    assert len(row) == 1 and "root" in row[0]
    assert_no_password_in_the_log(NEW_PASSWORD)


def test_a_superusers_sign_in_is_filed_under_no_reseller(client, root, reseller_a, alice):
    sign_in(client, "root", PASSWORD)
    event = AuditEvent.objects.get(action="login.signed_in")
    assert event.actor == root and event.reseller is None and event.object_type == "user"
    client.force_login(alice)
    assert "Signed in" not in history_of(client, reseller_a)


def test_the_django_admin_signs_in_on_the_console_sign_in_page(client, root):
    response = client.get("/admin/login/?next=/admin/hierarchy/node/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fadmin%2Fhierarchy%2Fnode%2F"
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/login/?next=%2Fadmin%2F"
    response = sign_in(client, "root", PASSWORD)
    assert AuditEvent.objects.filter(action="login.signed_in", actor=root).exists()
    assert client.get("/admin/").status_code == 200


def test_second_factor_checks_are_recorded(client, alice, reseller_a):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.test_two_factor import _code, _turn_on

    client.force_login(alice)
    device, _ = _turn_on(client, alice)
    client.logout()
    sign_in(client, "alice", PASSWORD)
    client.post(reverse("two-factor-verify"), {"token": "000000"}, REMOTE_ADDR="203.0.113.5")
    # The same 30 s window again, and no wait after the wrong code.
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    client.post(reverse("two-factor-verify"), {"token": _code(device)}, REMOTE_ADDR="203.0.113.5")
    actions = list(
        AuditEvent.objects.filter(action__startswith="login.two_factor")
        .order_by("pk")
        .values_list("action", "reseller", "origin")
    )
    assert actions == [
        ("login.two_factor_failed", reseller_a.pk, "console 203.0.113.5"),
        ("login.two_factor_passed", reseller_a.pk, "console 203.0.113.5"),
    ]
    page = history_of(client, reseller_a)
    assert "Two-factor code refused" in page and "Two-factor code accepted" in page


def test_signing_out_of_the_django_admin_is_recorded_too(client, root):
    client.force_login(root)
    response = client.post(reverse("admin:logout"), REMOTE_ADDR="192.0.2.60")
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="login.signed_out")
    assert event.actor == root and event.origin == "console 192.0.2.60"
