"""POST /api/v1/agent/connect: rules 1-6 and the order they are decided in."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from clients import services as client_services
from clients.agent_connect import NO_KEY_MESSAGE, WITH_KEY_MESSAGE
from clients.models import AgentToken, Client
from hierarchy import services as hierarchy_services
from tests.agent.conftest import CONNECT

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "first-connect-pw"
# The one 401 of every credentials failure; its message depends only on whether the
# request brought a registration key.
BAD_CREDENTIALS = {"error": "invalid_credentials", "message": NO_KEY_MESSAGE}
BAD_CREDENTIALS_WITH_KEY = {"error": "invalid_credentials", "message": WITH_KEY_MESSAGE}


def pending_client(customer, securecloud_id="pending@east.example"):
    """A client created in the console without a password (auto-authorization on)."""
    return client_services.create_client(
        customer, securecloud_id=securecloud_id, acting_user=None, origin="test"
    )


# Rule 1: a known client with a password.


def test_known_client_right_password_gets_token_and_summary(agent, client_a1):
    response = agent.connect(
        "A1@Acme.Example ", "client-pass-1", hostname="ann-laptop", agent_version="2.1.0"
    )
    assert response.status_code == 200
    body = response.json()
    # Everything an agent got before the refresh token, and the refresh token.
    assert set(body) == {
        "client",
        "customer",
        "reseller",
        "quota_bytes",
        "used_bytes",
        "token",
        "refresh_token",
    }
    assert body["client"]["securecloud_id"] == "a1@acme.example"
    assert body["client"]["plan"] == "trial"
    assert body["client"]["status"] == "active"
    assert body["client"]["trial_ends_at"].endswith("+00:00")
    assert body["customer"] == {"name": "Acme"}
    assert body["reseller"] == {"name": "Alpha Backup"}
    assert body["quota_bytes"] == 50 * 10**9
    assert body["used_bytes"] == 0
    assert len(body["token"]) >= 43  # 32 random bytes, URL-safe base64

    client_a1.refresh_from_db()
    assert client_a1.status == Client.Status.ACTIVE  # was pending
    assert client_a1.last_seen_at is not None
    assert client_a1.hostname == "ann-laptop"
    assert client_a1.agent_version == "2.1.0"


def test_token_is_stored_only_as_its_digest(agent, client_a1):
    import hashlib

    token = agent.token("a1@acme.example", "client-pass-1")
    stored = AgentToken.objects.get(client=client_a1)
    assert stored.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.digest


def test_paid_client_has_no_trial_end_and_unlimited_quota_is_null(agent, client_a1, customer_a1):
    client_services.switch_to_paid(client_a1, acting_user=None, origin="test")
    hierarchy_services.update_customer(
        customer_a1, usage_space_bytes=None, acting_user=None, origin="test"
    )
    body = agent.connect("a1@acme.example", "client-pass-1").json()
    assert body["client"]["plan"] == "paid"
    assert body["client"]["trial_ends_at"] is None
    assert body["quota_bytes"] is None


def test_known_client_wrong_password_is_invalid_credentials(agent, client_a1):
    response = agent.connect("a1@acme.example", "wrong-password")
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS
    assert not AgentToken.objects.exists()


def test_registration_key_does_not_replace_a_password(agent, client_b1, customer_b1):
    response = agent.connect("b1@bolt.example", "not-its-password", customer_b1.registration_key)
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS_WITH_KEY


# Rule 2: a known client without a password yet.


def test_first_connect_with_its_customers_key_sets_the_password(agent, customer_a_east):
    pending = pending_client(customer_a_east)
    assert pending.password == ""
    response = agent.connect(pending.securecloud_id, NEW_PASSWORD, customer_a_east.registration_key)
    assert response.status_code == 200
    assert response.json()["client"]["status"] == "active"
    pending.refresh_from_db()
    assert pending.status == Client.Status.ACTIVE
    assert check_password(NEW_PASSWORD, pending.password)
    # From now on the password is what counts; the key alone no longer does.
    assert agent.connect(pending.securecloud_id, NEW_PASSWORD).status_code == 200
    wrong = agent.connect(
        pending.securecloud_id, "other-password", customer_a_east.registration_key
    )
    assert wrong.status_code == 401


def test_first_connect_without_key_is_invalid_credentials(agent, customer_a_east):
    pending = pending_client(customer_a_east)
    response = agent.connect(pending.securecloud_id, NEW_PASSWORD)
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS
    pending.refresh_from_db()
    assert pending.password == ""
    assert pending.status == Client.Status.PENDING


def test_first_connect_with_another_customers_key_is_invalid_credentials(
    agent, customer_a_east, customer_b1
):
    pending = pending_client(customer_a_east)
    response = agent.connect(pending.securecloud_id, NEW_PASSWORD, customer_b1.registration_key)
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS_WITH_KEY
    pending.refresh_from_db()
    assert pending.password == ""


def test_first_connect_when_auto_authorization_is_off_is_authorization_required(
    agent, customer_a_east
):
    pending = pending_client(customer_a_east)
    hierarchy_services.set_auto_authorization(
        customer_a_east, False, acting_user=None, origin="test"
    )
    response = agent.connect(pending.securecloud_id, NEW_PASSWORD, customer_a_east.registration_key)
    assert response.status_code == 403
    assert response.json() == {"error": "authorization_required"}
    pending.refresh_from_db()
    assert pending.password == ""


def test_regenerated_key_stops_the_old_one(agent, customer_a_east):
    pending = pending_client(customer_a_east)
    old_key = customer_a_east.registration_key
    hierarchy_services.regenerate_registration_key(customer_a_east, acting_user=None, origin="test")
    assert agent.connect(pending.securecloud_id, NEW_PASSWORD, old_key).status_code == 401
    assert agent.connect("brand-new@east.example", NEW_PASSWORD, old_key).status_code == 401
    customer_a_east.refresh_from_db()
    fresh = agent.connect(pending.securecloud_id, NEW_PASSWORD, customer_a_east.registration_key)
    assert fresh.status_code == 200


# Rule 3: an unknown SecureCloud ID with a registration key.


def test_unknown_id_with_key_creates_trial_client_under_that_customer(agent, customer_a_east):
    response = agent.connect(
        "New.Machine@East.Example",
        NEW_PASSWORD,
        customer_a_east.registration_key,
        hostname="new-box",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["client"]["securecloud_id"] == "new.machine@east.example"
    assert body["client"]["plan"] == "trial"
    assert body["customer"] == {"name": "East Widgets"}
    assert body["reseller"] == {"name": "Alpha East"}
    created = Client.objects.get(securecloud_id="new.machine@east.example")
    assert created.customer_id == customer_a_east.pk
    assert created.plan == Client.Plan.TRIAL
    assert created.status == Client.Status.ACTIVE
    assert created.hostname == "new-box"
    assert created.trial_ends_at > timezone.now() + timedelta(days=29)
    # The password it came with is now its password.
    assert agent.connect("new.machine@east.example", NEW_PASSWORD).status_code == 200
    assert agent.connect("new.machine@east.example", "something-else").status_code == 401


def test_unknown_id_with_key_of_customer_without_auto_authorization(agent, customer_a1):
    response = agent.connect("new@acme.example", NEW_PASSWORD, customer_a1.registration_key)
    assert response.status_code == 403
    assert response.json() == {"error": "authorization_pending"}
    assert not Client.objects.filter(securecloud_id="new@acme.example").exists()


# Rule 4: one answer for every credential failure.


@pytest.mark.parametrize(
    "case", ["unknown_no_key", "unknown_bad_key", "wrong_password", "pending_no_key"]
)
def test_every_credential_failure_looks_the_same(agent, client_a1, customer_a_east, case):
    pending_client(customer_a_east)
    securecloud_id, password, key = {
        "unknown_no_key": ("nobody@nowhere.example", NEW_PASSWORD, None),
        "unknown_bad_key": ("nobody@nowhere.example", NEW_PASSWORD, "not-a-registration-key"),
        "wrong_password": ("a1@acme.example", "wrong-password", None),
        "pending_no_key": ("pending@east.example", NEW_PASSWORD, None),
    }[case]
    response = agent.connect(securecloud_id, password, key)
    assert response.status_code == 401
    # Byte for byte: whether the ID exists changes nothing, only whether a key was sent.
    expected = BAD_CREDENTIALS_WITH_KEY if key else BAD_CREDENTIALS
    assert response.content == json.dumps(expected).encode()
    assert not Client.objects.filter(securecloud_id="nobody@nowhere.example").exists()


# Rule 5: client state, only once the credentials are proven.


def test_disabled_client_right_password_is_client_disabled(agent, client_a1):
    client_services.disable_client(client_a1, acting_user=None, origin="test")
    response = agent.connect("a1@acme.example", "client-pass-1")
    assert response.status_code == 403
    assert response.json() == {"error": "client_disabled"}
    assert not AgentToken.objects.exists()


def test_disabled_client_wrong_password_is_invalid_credentials(agent, client_a1):
    client_services.disable_client(client_a1, acting_user=None, origin="test")
    response = agent.connect("a1@acme.example", "wrong-password")
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS


def test_expired_trial_is_trial_expired(agent, client_a1):
    Client.objects.filter(pk=client_a1.pk).update(
        trial_ends_at=timezone.now() - timedelta(seconds=1)
    )
    response = agent.connect("a1@acme.example", "client-pass-1")
    assert response.status_code == 403
    assert response.json() == {"error": "trial_expired"}
    # ...but not to a wrong password, which learns nothing.
    assert agent.connect("a1@acme.example", "wrong-password").status_code == 401


def test_disabled_wins_over_expired_trial(agent, client_a1):
    client_services.disable_client(client_a1, acting_user=None, origin="test")
    Client.objects.filter(pk=client_a1.pk).update(trial_ends_at=timezone.now() - timedelta(days=1))
    assert agent.connect("a1@acme.example", "client-pass-1").json() == {"error": "client_disabled"}


def test_paid_client_never_expires(agent, client_a1):
    client_services.switch_to_paid(client_a1, acting_user=None, origin="test")
    assert agent.connect("a1@acme.example", "client-pass-1").status_code == 200


def test_disabled_pending_client_with_key_is_client_disabled(agent, customer_a_east):
    pending = pending_client(customer_a_east)
    client_services.disable_client(pending, acting_user=None, origin="test")
    response = agent.connect(pending.securecloud_id, NEW_PASSWORD, customer_a_east.registration_key)
    assert response.json() == {"error": "client_disabled"}
    pending.refresh_from_db()
    assert pending.password == ""


# Order: validate -> rate limit -> credentials -> state.


def test_validation_comes_before_credentials(agent, client_a1):
    response = agent.post(CONNECT, {"securecloud_id": "a1@acme.example", "password": 12345})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "password" in response.json()["fields"]


def test_a_short_password_for_a_known_client_is_a_wrong_password(agent, client_a1):
    response = agent.connect("a1@acme.example", "short")
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS


def test_an_imported_short_password_still_connects(agent, customer_a1):
    from django.contrib.auth.hashers import make_password

    Client.objects.create(
        customer=customer_a1,
        securecloud_id="old@acme.example",
        password=make_password("abc"),
        trial_ends_at=timezone.now() + timedelta(days=3),
    )
    assert agent.connect("old@acme.example", "abc").status_code == 200


def test_a_password_the_agent_sets_must_follow_the_rules(agent, customer_a_east):
    key = customer_a_east.registration_key
    response = agent.connect("newbie@east.example", "short", key)
    assert response.status_code == 400
    assert response.json()["fields"] == {"password": "A client password has at least 8 characters."}


def test_rate_limit_comes_before_credentials_and_state(agent, client_a1, settings):
    settings.AGENT_CONNECT_MAX_FAILURES_PER_ID = 2
    client_services.disable_client(client_a1, acting_user=None, origin="test")
    for _ in range(2):
        assert agent.connect("a1@acme.example", "wrong-password").status_code == 401
    response = agent.connect("a1@acme.example", "client-pass-1")
    assert response.status_code == 429  # not 403 client_disabled
    assert response.json() == {"error": "rate_limited"}


def test_connect_needs_no_session_or_csrf(client, client_a1):
    from django.test import Client as DjangoClient

    strict = DjangoClient(enforce_csrf_checks=True)
    response = strict.post(
        CONNECT,
        {"securecloud_id": "a1@acme.example", "password": "client-pass-1"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
