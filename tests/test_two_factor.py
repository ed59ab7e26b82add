"""Two-factor sign-in with TOTP and recovery codes."""

import re
from base64 import b32decode

import pytest
from django.test import Client as BrowserClient
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from hierarchy import services
from hierarchy.models import AuditEvent
from securecloud.accounts import invitations
from tests.conftest import PASSWORD


def _code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _shown_key(page: str) -> bytes | None:
    """The key the setup page shows for typing into an authenticator app."""
    found = re.search(r'<code class="user-select-all">([A-Z2-7 ]+)</code>', page)
    if found is None:
        return None
    secret = found.group(1).replace(" ", "")
    return b32decode(secret + "=" * (-len(secret) % 8))


def _code_for_key(key: bytes) -> str:
    return f"{totp(key):06d}"


def _turn_on(client, user):
    key = _shown_key(client.get("/account/2fa/setup/").content.decode())
    response = client.post("/account/2fa/setup/", {"token": _code_for_key(key)})
    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", response.content.decode())
    assert len(codes) == 10
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert device.bin_key == key
    return device, codes


def _sign_in(client, username="alice"):
    client.logout()
    return client.post("/login/", {"username": username, "password": PASSWORD})


def test_an_admin_turns_two_factor_on_and_then_must_enter_a_code(client, alice):
    client.force_login(alice)
    setup_page = client.get("/account/2fa/setup/").content.decode()
    assert "data:image/svg+xml" in setup_page  # the QR code, allowed by img-src data:
    device, _ = _turn_on(client, alice)
    _sign_in(client)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/2fa/verify/")
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the same 30 s window again
    response = client.post("/account/2fa/verify/", {"token": _code(device), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_code_is_refused_with_a_message(client, alice):
    client.force_login(alice)
    _turn_on(client, alice)
    _sign_in(client)
    response = client.post("/account/2fa/verify/", {"token": "000000"})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get("/").status_code == 302


def test_a_recovery_code_signs_in_once(client, alice):
    client.force_login(alice)
    _, codes = _turn_on(client, alice)
    _sign_in(client)
    assert client.post("/account/2fa/verify/", {"token": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200
    _sign_in(client)
    response = client.post("/account/2fa/verify/", {"token": codes[0]})
    assert response.status_code == 200  # used up
    assert client.get("/").status_code == 302


def test_a_reseller_can_require_two_factor_for_its_whole_subtree(client, alice, sam, reseller_a):
    client.force_login(alice)
    response = client.post(f"/resellers/{reseller_a.code}/two-factor-policy/", {"required": "1"})
    assert response.status_code == 302
    reseller_a.refresh_from_db()
    assert reseller_a.require_two_factor
    # sam administers a sub-reseller: he must set up a second factor before anything else.
    _sign_in(client, "sam")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/2fa/setup/")
    # ...and cannot turn it off once it is on.
    _turn_on(client, sam)
    response = client.post("/account/2fa/disable/", follow=True)
    assert "requires two-factor sign-in" in response.content.decode()
    assert TOTPDevice.objects.filter(user=sam, confirmed=True).exists()


def test_the_policy_cannot_be_set_on_another_resellers_node(bob_client, reseller_a):
    response = bob_client.post(
        f"/resellers/{reseller_a.code}/two-factor-policy/", {"required": "1"}
    )
    assert response.status_code == 404
    reseller_a.refresh_from_db()
    assert reseller_a.require_two_factor is False


def test_a_sub_resellers_admin_cannot_set_the_parents_policy(client, sam, reseller_a):
    client.force_login(sam)
    response = client.post(f"/resellers/{reseller_a.code}/two-factor-policy/", {"required": "1"})
    assert response.status_code == 404
    reseller_a.refresh_from_db()
    assert reseller_a.require_two_factor is False


def test_lifting_a_sub_resellers_requirement_leaves_the_parents_in_force(
    client, sam, reseller_a, sub_reseller_a
):
    services.set_two_factor_policy(reseller_a, True, acting_user=None, origin="test")
    services.set_two_factor_policy(sub_reseller_a, False, acting_user=None, origin="test")
    client.force_login(sam)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/2fa/setup/")


def test_an_admin_without_requirement_can_turn_two_factor_off(client, alice):
    client.force_login(alice)
    _turn_on(client, alice)
    response = client.post("/account/2fa/disable/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()


@pytest.mark.parametrize("path", ["/account/2fa/disable/", "/account/2fa/recovery-codes/"])
def test_two_factor_changes_are_posts(alice_client, path):
    assert alice_client.get(path).status_code == 405


# --- Changing the second factor needs the second factor ---------------------------------


def test_a_password_alone_cannot_replace_the_authenticator(client, alice):
    client.force_login(alice)
    device, codes = _turn_on(client, alice)
    # Someone who knows only the password signs in and goes for the setup page.
    _sign_in(client)
    response = client.get("/account/2fa/setup/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/2fa/verify/")
    # Whatever key they saw or made up, a confirm changes nothing.
    key = _shown_key(response.content.decode()) or b"attacker-chosen-key!"
    response = client.post("/account/2fa/setup/", {"token": _code_for_key(key)})
    assert response.status_code == 302
    assert response["Location"].startswith("/account/2fa/verify/")
    assert list(TOTPDevice.objects.filter(user=alice)) == [device]
    assert StaticDevice.objects.get(user=alice).token_set.count() == len(codes)
    assert client.get("/")["Location"].startswith("/account/2fa/verify/")


@pytest.mark.parametrize(
    "path, data",
    [
        ("/account/2fa/setup/", None),
        ("/account/2fa/disable/", {}),
        ("/account/2fa/recovery-codes/", {}),
        (
            "/account/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "Thief-Chosen-77",
                "new_password2": "Thief-Chosen-77",
            },
        ),
    ],
)
def test_a_session_signed_in_before_two_factor_was_turned_on_cannot_change_it(
    client, alice, path, data
):
    # A password thief signs in while alice has no second factor...
    _sign_in(client)
    assert client.get("/").status_code == 200
    # ...then alice turns it on in her own browser.
    own = BrowserClient()
    own.force_login(alice)
    device, codes = _turn_on(own, alice)
    # The thief's session still has only the password: no change to the sign-in.
    response = client.get(path) if data is None else client.post(path, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/2fa/verify/")
    assert list(TOTPDevice.objects.filter(user=alice)) == [device]
    assert set(StaticDevice.objects.get(user=alice).token_set.values_list("token", flat=True)) == (
        set(codes)
    )
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_after_the_code_an_admin_replaces_her_authenticator(client, alice):
    client.force_login(alice)
    old, _ = _turn_on(client, alice)
    _sign_in(client)
    TOTPDevice.objects.filter(pk=old.pk).update(last_t=-1)
    client.post("/account/2fa/verify/", {"token": _code(old)})
    new, codes = _turn_on(client, alice)
    assert new.pk != old.pk
    assert list(TOTPDevice.objects.filter(user=alice)) == [new]
    assert client.get("/").status_code == 200  # still signed in with the new one


def test_replacing_the_authenticator_is_in_the_audit_log(client, alice):
    client.force_login(alice)
    old, _ = _turn_on(client, alice)
    _sign_in(client)
    TOTPDevice.objects.filter(pk=old.pk).update(last_t=-1)
    client.post("/account/2fa/verify/", {"token": _code(old)})
    _turn_on(client, alice)
    replaced = AuditEvent.objects.filter(actor=alice).latest("pk")
    assert replaced.action == "admin.two_factor_replaced"
    assert replaced.origin.startswith("console ")


def test_an_admin_who_must_use_two_factor_sets_it_up_after_the_password(client, sam, reseller_a):
    services.set_two_factor_policy(reseller_a, True, acting_user=None, origin="test")
    _sign_in(client, "sam")
    assert client.get("/")["Location"].startswith("/account/2fa/setup/")
    _turn_on(client, sam)
    assert client.get("/").status_code == 200


def test_opening_the_setup_page_stores_nothing_and_keeps_its_key(alice_client, alice):
    first = alice_client.get("/account/2fa/setup/").content.decode()
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    # A reload shows the same key, so an app that scanned it still matches.
    second = alice_client.get("/account/2fa/setup/").content.decode()
    assert _shown_key(first) == _shown_key(second) is not None
    # A wrong code stores nothing either.
    response = alice_client.post("/account/2fa/setup/", {"token": "000000"})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=alice).exists()


def test_each_session_gets_its_own_setup_key(client, alice):
    client.force_login(alice)
    other = BrowserClient()
    other.force_login(alice)
    mine = _shown_key(client.get("/account/2fa/setup/").content.decode())
    theirs = _shown_key(other.get("/account/2fa/setup/").content.decode())
    assert mine != theirs
    # A code from another session's key does not confirm this one.
    response = client.post("/account/2fa/setup/", {"token": _code_for_key(theirs)})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=alice).exists()


def test_two_factor_changes_are_in_the_audit_log(alice_client, alice):
    _turn_on(alice_client, alice)
    alice_client.post("/account/2fa/recovery-codes/")
    alice_client.post("/account/2fa/disable/")
    events = AuditEvent.objects.filter(actor=alice).order_by("pk")
    assert [event.action for event in events] == [
        "admin.two_factor",
        "admin.recovery_codes_renewed",
        "admin.two_factor",
    ]
    assert [event.changes for event in events] == [
        {"two_factor": [False, True]},
        {},
        {"two_factor": [True, False]},
    ]
    history = alice_client.get(f"/resellers/{alice.membership.reseller.code}/history/")
    page = history.content.decode()
    assert "Two-factor sign-in turned on" in page
    assert "New recovery codes made" in page
    assert "Two-factor sign-in turned off" in page


def _signed_in_with(code):
    browser = BrowserClient()
    assert _sign_in(browser).status_code == 302
    assert browser.post("/account/2fa/verify/", {"token": code}).status_code == 302
    assert browser.get("/").status_code == 200
    return browser


def test_new_recovery_codes_sign_out_the_sessions_that_used_an_old_one(client, alice):
    """Someone who signed in with a stolen recovery code keeps no say once the admin
    makes new codes: the session that used an old code must enter a code again."""
    client.force_login(alice)
    _, codes = _turn_on(client, alice)
    thief = _signed_in_with(codes[0])
    owner = _signed_in_with(codes[1])
    assert owner.post("/account/2fa/recovery-codes/").status_code == 200
    response = thief.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/2fa/verify/")
    assert thief.post("/account/2fa/disable/").status_code == 302
    assert TOTPDevice.objects.filter(user=alice).exists()
    assert owner.get("/").status_code == 200


def test_an_admin_signed_in_with_a_recovery_code_stays_signed_in_after_new_codes(client, alice):
    client.force_login(alice)
    _, codes = _turn_on(client, alice)
    browser = _signed_in_with(codes[0])
    response = browser.post("/account/2fa/recovery-codes/")
    assert response.status_code == 200
    new_codes = re.findall(r"<li>([a-z0-9]{8})</li>", response.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    assert browser.get("/").status_code == 200
    # And after setting up a new authenticator too.
    key = _shown_key(browser.get("/account/2fa/setup/").content.decode())
    assert browser.post("/account/2fa/setup/", {"token": _code_for_key(key)}).status_code == 200
    assert browser.get("/").status_code == 200


def _not_stored(response):
    """The browser keeps no copy (Back after signing out would show it again)."""
    assert "no-store" in response.get("Cache-Control", "")


def test_pages_that_show_a_secret_are_not_kept_by_the_browser(client, alice):
    client.force_login(alice)
    page = client.get("/account/2fa/setup/")  # the key
    _not_stored(page)
    key = _shown_key(page.content.decode())
    codes_page = client.post("/account/2fa/setup/", {"token": _code_for_key(key)})
    assert codes_page.status_code == 200
    _not_stored(codes_page)  # the recovery codes
    _not_stored(client.post("/account/2fa/recovery-codes/"))


def test_the_invitation_page_is_not_kept_by_the_browser(client, reseller_a):
    sent = invitations.invite_admin(
        reseller_a, email="carol@alpha.example", role="technician", acting_user=None, origin="test"
    )
    _not_stored(client.get(reverse("invitation-accept", args=[sent.token])))
