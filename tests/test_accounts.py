"""Console admins change their password, or reset it by email."""

import re

from django.contrib.auth import get_user_model

from tests.conftest import PASSWORD


def test_an_admin_changes_her_password(alice_client):
    response = alice_client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "Brand-New-Secret-7",
            "new_password2": "Brand-New-Secret-7",
        },
    )
    assert response.status_code == 302
    assert get_user_model().objects.get(username="alice").check_password("Brand-New-Secret-7")


def test_password_change_applies_the_password_validators(alice_client):
    response = alice_client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
    )
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert get_user_model().objects.get(username="alice").check_password(PASSWORD)


def test_password_change_needs_sign_in(client, db):
    response = client.get("/account/password/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_admin_resets_a_forgotten_password_by_email(client, alice, mailoutbox, settings):
    settings.SITE_URL = "https://console.example.com"
    response = client.post("/account/reset/", {"email": "alice@alpha.example"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["alice@alpha.example"]
    # The link is built from SITE_URL, not from the request's host (testserver here).
    link = re.search(r"https://console\.example\.com(/account/reset/\S+/)", mailoutbox[0].body)
    link = link.group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_url, {"new_password1": "Reset-Secret-99", "new_password2": "Reset-Secret-99"}
    )
    assert response.status_code == 302
    assert get_user_model().objects.get(username="alice").check_password("Reset-Secret-99")


def test_a_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, db, mailoutbox):
    response = client.post("/account/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []
