"""A password that someone else set (a superuser in the Django admin) must be changed at
the next sign-in: no other page can be reached first, by any method; the commands force
nothing unless asked."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client as BrowserClient
from django.urls import reverse

from hierarchy.models import Node
from securecloud.accounts import password_state
from securecloud.accounts.models import PasswordState
from tests.conftest import PASSWORD

SET_BY_ROOT = "Root-Chose-This-5"
ALICES_OWN = "Alice-Chose-This-9"


def set_in_the_django_admin(root, user, password=SET_BY_ROOT):
    browser = BrowserClient()
    browser.force_login(root)
    response = browser.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": password, "password2": password, "usable_password": "true"},
    )
    assert response.status_code == 302


def sign_in(client, username, password):
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return response


@pytest.fixture
def forced(client, root, alice):
    """alice, whose password root set in the Django admin, signed in with it."""
    set_in_the_django_admin(root, alice)
    sign_in(client, "alice", SET_BY_ROOT)
    return client


def test_a_password_set_in_the_django_admin_must_be_changed(root, alice):
    set_in_the_django_admin(root, alice)
    assert password_state.must_change_password(alice)


def test_no_other_page_can_be_reached_before_the_change(forced, reseller_a, customer_a1, client_a1):
    change = reverse("password_change")
    gets = [
        "/",
        reverse("reseller-pane", args=[reseller_a.code]),
        reverse("customer-pane", args=[customer_a1.code]),
        reverse("client-pane", args=[client_a1.code]),
        reverse("account"),
        reverse("search") + "?q=acme",
    ]
    for url in gets:
        response = forced.get(url)
        assert response.status_code == 302 and response["Location"] == change, url
    # A write sent straight to its address changes nothing.
    response = forced.post(
        reverse("customer-add", args=[reseller_a.code]),
        {"name": "Sneaked In", "contact_email": "x@example.com"},
    )
    assert response.status_code == 302 and response["Location"] == change
    assert not Node.objects.filter(name="Sneaked In").exists()
    # An htmx request is sent to the page as a whole.
    response = forced.get(
        reverse("tree-children", args=[reseller_a.code]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/",
    )
    assert response.status_code in {200, 302}
    assert change in response.get("HX-Redirect", response.get("Location", ""))
    page = forced.get(change)
    assert page.status_code == 200
    assert password_state.MUST_CHANGE_MESSAGE in page.content.decode()


def test_signing_out_stays_possible(forced):
    response = forced.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] != reverse("password_change")


def test_the_change_clears_it(forced, alice, reseller_a):
    response = forced.post(
        reverse("password_change"),
        {"old_password": SET_BY_ROOT, "new_password1": ALICES_OWN, "new_password2": ALICES_OWN},
    )
    assert response.status_code == 302
    assert not password_state.must_change_password(alice)
    assert forced.get(reverse("reseller-pane", args=[reseller_a.code])).status_code == 200
    other = BrowserClient()
    sign_in(other, "alice", ALICES_OWN)
    assert other.get("/").status_code == 200


def test_a_superuser_setting_its_own_password_is_not_forced(root):
    set_in_the_django_admin(root, root)
    assert not password_state.must_change_password(root)


def test_a_login_added_in_the_django_admin_with_a_password_is_forced(root, client):
    client.force_login(root)
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newbie",
            "password1": SET_BY_ROOT,
            "password2": SET_BY_ROOT,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    newbie = get_user_model().objects.get(username="newbie")
    assert password_state.must_change_password(newbie)


def test_the_command_forces_no_change_unless_asked(db, monkeypatch):
    monkeypatch.setenv("RESELLER_ADMIN_PASSWORD", PASSWORD)
    common = ["--reseller", "Gamma", "--noinput"]
    call_command("create_reseller_admin", *common, "--username", "gina", stdout=StringIO())
    call_command(
        "create_reseller_admin",
        *common,
        "--username",
        "gus",
        "--must-change-password",
        stdout=StringIO(),
    )
    users = get_user_model().objects
    assert not password_state.must_change_password(users.get(username="gina"))
    assert password_state.must_change_password(users.get(username="gus"))
    assert PasswordState.objects.count() == 1


def test_a_password_chosen_from_a_reset_link_clears_it(client, root, alice, mailoutbox):
    set_in_the_django_admin(root, alice)
    client.post(reverse("password_reset"), {"email": "alice@alpha.example"})
    [message] = mailoutbox
    link = re.search(r"https?://[^/\s]+(/account/reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": ALICES_OWN, "new_password2": ALICES_OWN},
    )
    alice.refresh_from_db()
    assert alice.check_password(ALICES_OWN)
    assert not password_state.must_change_password(alice)
