"""API keys: created by an Administrator on the "API keys" page or with
create_api_key, shown once, stored as a digest, revocable, expiring, and noted when
used. A revoked, expired or unknown key gets 401."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from hierarchy import memberships
from hierarchy.models import AuditEvent
from securecloud.accounts.api_keys import digest_of
from securecloud.accounts.models import ApiKey
from tests.admin_api.conftest import KeyClient, make_key
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_an_administrator_creates_a_key_shown_once(alice_client, reseller_a):
    response = alice_client.post(
        f"/resellers/{reseller_a.code}/api-keys/",
        {"name": "ConnectWise", "role": "technician", "expires_days": "30"},
    )
    assert response.status_code == 200
    secret = response.context["new_key"].secret
    assert secret.startswith("sck_") and secret.encode() in response.content
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get(name="ConnectWise")
    assert key.role == "technician" and key.reseller == reseller_a
    assert key.digest == digest_of(secret) and secret not in str(key.__dict__)
    assert timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)
    event = AuditEvent.objects.get(action="api_key.created")
    assert event.actor_label == "alice" and event.reseller_id == reseller_a.pk

    page = alice_client.get(f"/resellers/{reseller_a.code}/api-keys/")
    assert b"ConnectWise" in page.content and secret.encode() not in page.content
    assert key.prefix.encode() in page.content


def test_the_menu_leads_to_the_own_resellers_keys(alice_client, reseller_a):
    home = alice_client.get("/")
    assert b'href="/api-keys/"' in home.content
    response = alice_client.get("/api-keys/")
    assert response.status_code == 302
    assert response["Location"] == f"/resellers/{reseller_a.code}/api-keys/"


def test_a_form_error_keeps_the_page(alice_client, reseller_a):
    make_key(reseller_a, name="PSA")
    response = alice_client.post(
        f"/resellers/{reseller_a.code}/api-keys/", {"name": "PSA", "role": "billing"}
    )
    assert response.status_code == 400
    assert b"already has an API key with this name" in response.content
    assert ApiKey.objects.filter(name="PSA").count() == 1


@pytest.mark.parametrize("role", ["technician", "read_only", "billing"])
def test_only_an_administrator_manages_keys(client, reseller_a, role):
    admin = memberships.add_reseller_admin(
        reseller_a, username=role, password=PASSWORD, role=role, acting_user=None, origin="test"
    )
    client.force_login(admin.user)
    assert client.get(f"/resellers/{reseller_a.code}/api-keys/").status_code == 403
    response = client.post(
        f"/resellers/{reseller_a.code}/api-keys/", {"name": "x", "role": "administrator"}
    )
    assert response.status_code == 403
    assert not ApiKey.objects.exists()
    assert b'href="/api-keys/"' not in client.get("/").content


def test_another_resellers_keys_are_not_found(bob_client, reseller_a):
    make_key(reseller_a, name="PSA")
    key = ApiKey.objects.get()
    assert bob_client.get(f"/resellers/{reseller_a.code}/api-keys/").status_code == 404
    assert bob_client.post(f"/api-keys/{key.code}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_revoked_key_gets_401_at_once(client, alice_client, reseller_a):
    api = KeyClient(client, make_key(reseller_a, name="PSA"))
    assert api.get("/customers").status_code == 200
    key = ApiKey.objects.get()
    response = alice_client.post(f"/api-keys/{key.code}/revoke/")
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="api_key.revoked", object_code=key.code).exists()
    client.logout()
    response = api.get("/customers")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_or_unknown_key_gets_401(client, reseller_a):
    secret = make_key(reseller_a, name="Short", expires_days=1)
    api = KeyClient(client, secret)
    assert api.get("/customers").status_code == 200
    ApiKey.objects.filter(name="Short").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get("/customers").status_code == 401
    assert KeyClient(client, "sck_" + "x" * 43).get("/customers").status_code == 401
    assert KeyClient(client, "").get("/customers").status_code == 401
    assert client.get("/api/v1/admin/customers", HTTP_AUTHORIZATION="Basic eDp5").status_code == 401
    assert client.get("/api/v1/admin/customers").status_code == 401


def test_last_used_is_noted(client, reseller_a):
    api = KeyClient(client, make_key(reseller_a, name="PSA"))
    assert ApiKey.objects.get().last_used_at is None
    api.get("/resellers")
    assert ApiKey.objects.get().last_used_at is not None


def test_the_command_prints_the_key_alone_on_the_last_line(client, reseller_a):
    out = StringIO()
    call_command(
        "create_api_key",
        "--reseller",
        "alpha backup",
        "--name",
        "RMM",
        "--role",
        "read-only",
        "--expires-days",
        "7",
        stdout=out,
    )
    secret = out.getvalue().strip().splitlines()[-1]
    key = ApiKey.objects.get(name="RMM")
    assert key.role == "read_only" and key.digest == digest_of(secret)
    assert AuditEvent.objects.get(action="api_key.created").origin == "command create_api_key"
    assert KeyClient(client, secret).get("/customers").status_code == 200


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--reseller", "Nobody", "--name", "x"], "No reseller named"),
        (["--reseller", "Alpha Backup", "--name", "x", "--role", "owner"], "Unknown role"),
        (["--reseller", "Alpha Backup", "--name", "", "--role", "billing"], "Enter a name"),
        (["--reseller", "Alpha Backup", "--name", "x", "--expires-days", "0"], "expiry"),
    ],
)
def test_the_command_refuses_bad_input(reseller_a, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", *arguments, stdout=StringIO())
    assert not ApiKey.objects.exists()


def test_a_superuser_revokes_keys_in_the_django_admin(root_client, reseller_a):
    make_key(reseller_a, name="PSA")
    key = ApiKey.objects.get()
    listing = root_client.get("/admin/accounts/apikey/")
    assert listing.status_code == 200 and b"PSA" in listing.content
    assert root_client.get("/admin/accounts/apikey/add/").status_code == 403
    response = root_client.post(
        "/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]}
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    event = AuditEvent.objects.get(action="api_key.revoked")
    assert event.actor_label == "root" and event.origin.startswith("admin")


def test_the_history_names_the_key_that_acted(alice_client, reseller_a, customer_a1):
    from django.test import Client as DjangoClient

    api = KeyClient(DjangoClient(), make_key(reseller_a, name="HaloPSA"))
    assert api.patch(f"/customers/{customer_a1.code}", {"trial_days": 9}).status_code == 200
    page = alice_client.get(f"/customers/{customer_a1.code}/history/").content.decode()
    assert "API key HaloPSA" in page
    assert "Customer settings changed" in page
    reseller_page = alice_client.get(f"/resellers/{reseller_a.code}/history/").content.decode()
    assert "API key created" in reseller_page
