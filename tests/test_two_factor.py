"""Two-factor sign-in with TOTP and recovery codes."""

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from hierarchy import services
from tests.conftest import PASSWORD


def _code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _turn_on(client, user):
    client.get("/account/2fa/setup/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/account/2fa/setup/", {"token": _code(device)})
    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", response.content.decode())
    assert len(codes) == 10
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
    services.set_two_factor_policy(reseller_a, True)
    services.set_two_factor_policy(sub_reseller_a, False)
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
