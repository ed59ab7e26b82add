"""The refresh credential: every connect hands out a refresh token, which buys a new
bearer token and a new refresh token once, without a password check. A used one
presented again revokes every token of its client. And the connect queue: a connect
that finds no free slot for its password check is refused with 503 and Retry-After."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from clients import connect_queue, services
from clients.models import AgentRefreshToken, AgentToken, AuthFailure, Client
from hierarchy.models import AuditEvent
from tests.agent.conftest import CONNECT, STATUS, Agent

pytestmark = pytest.mark.django_db

REFRESH = "/api/v1/agent/refresh"


def pair(agent: Agent) -> tuple[str, str]:
    """A bearer token and a refresh token of a1@acme.example, from a password connect."""
    response = agent.connect("a1@acme.example", "client-pass-1")
    assert response.status_code == 200, response.content
    body = response.json()
    return body["token"], body["refresh_token"]


def refresh(agent: Agent, refresh_token):
    return agent.post(REFRESH, {"refresh_token": refresh_token})


def assert_refused(response, *, reused: bool = False):
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_refresh_token"
    assert ("used already: every token" in body["message"]) == reused
    assert "password" in body["message"]


# The credential


def test_connect_answers_a_refresh_token_stored_only_as_its_digest(agent, client_a1):
    _, refresh_token = pair(agent)
    assert len(refresh_token) >= 43  # token_urlsafe(32): 256 bits
    stored = AgentRefreshToken.objects.get(client=client_a1)
    assert stored.digest == hashlib.sha256(refresh_token.encode()).hexdigest()
    assert stored.used_at is None
    assert not AgentRefreshToken.objects.filter(digest=refresh_token).exists()


def test_refresh_answers_a_working_token_and_a_new_refresh_token(agent, client_a1):
    token, refresh_token = pair(agent)
    response = refresh(agent, refresh_token)
    assert response.status_code == 200
    body = response.json()
    # The answer of a connect: the summary, a bearer token and a refresh token.
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
    assert body["customer"] == {"name": "Acme"}
    assert body["token"] != token and body["refresh_token"] != refresh_token
    assert agent.get(STATUS, body["token"]).status_code == 200
    # The old bearer token keeps working too (a client keeps its 5 newest).
    assert agent.get(STATUS, token).status_code == 200
    # And the new refresh token refreshes in turn.
    assert refresh(agent, body["refresh_token"]).status_code == 200


def test_a_used_refresh_token_revokes_every_token_of_its_client(agent, client_a1, reseller_a):
    _, first = pair(agent)
    second = refresh(agent, first).json()
    # Someone presents the used one again: the agent or a thief, whichever came second.
    assert_refused(refresh(agent, first), reused=True)
    # Every refresh token and bearer token of the client is revoked, the newest too.
    assert_refused(refresh(agent, second["refresh_token"]))
    assert agent.get(STATUS, second["token"]).status_code == 401
    assert not AgentToken.objects.filter(client=client_a1).exists()
    assert not AgentRefreshToken.objects.filter(client=client_a1).exists()
    # Said once in the audit log, by the agent, from its address.
    events = AuditEvent.objects.filter(action="client.refresh_token_reused")
    assert [(e.object_code, e.origin, e.customer_code, e.reseller_id) for e in events] == [
        (client_a1.code, "agent 198.51.100.7", client_a1.customer.code, reseller_a.pk)
    ]
    # Presented again, it is just unknown now: no second event.
    assert_refused(refresh(agent, first))
    assert events.count() == 1
    # The password still connects.
    assert agent.connect("a1@acme.example", "client-pass-1").status_code == 200


def test_a_successful_refresh_writes_no_audit_event(agent, client_a1):
    _, refresh_token = pair(agent)
    before = AuditEvent.objects.count()
    assert refresh(agent, refresh_token).status_code == 200
    assert AuditEvent.objects.count() == before


def test_a_client_keeps_its_five_newest_refresh_tokens(agent, client_a1):
    tokens = [pair(agent)[1] for _ in range(6)]
    assert_refused(refresh(agent, tokens[0]))
    assert refresh(agent, tokens[1]).status_code == 200
    # Used ones are kept for the reuse check, a few of them only.
    for _ in range(8):
        tokens.append(refresh(agent, pair(agent)[1]).json()["refresh_token"])
    stored = AgentRefreshToken.objects.filter(client=client_a1)
    assert stored.filter(used_at__isnull=True).count() == 5
    assert stored.filter(used_at__isnull=False).count() == 5


def test_unknown_refresh_token(agent, client_a1):
    assert_refused(refresh(agent, "x" * 43))


# Client state and the services that revoke


def test_disabling_revokes_refresh_tokens_and_enabling_does_not_bring_them_back(agent, client_a1):
    _, refresh_token = pair(agent)
    services.disable_client(client_a1, acting_user=None, origin="test")
    assert_refused(refresh(agent, refresh_token))
    services.enable_client(client_a1, acting_user=None, origin="test")
    assert_refused(refresh(agent, refresh_token))


def test_a_disabled_client_is_refused(agent, client_a1):
    """A client disabled without its tokens revoked (no service leaves it so; the state
    check stands on its own all the same)."""
    _, refresh_token = pair(agent)
    Client.objects.filter(pk=client_a1.pk).update(status=Client.Status.DISABLED)
    response = refresh(agent, refresh_token)
    assert response.status_code == 403
    assert response.json() == {"error": "client_disabled"}


def test_an_expired_trial_is_refused_and_refreshes_again_once_paid(agent, client_a1):
    _, refresh_token = pair(agent)
    Client.objects.filter(pk=client_a1.pk).update(trial_ends_at=timezone.now() - timedelta(days=1))
    response = refresh(agent, refresh_token)
    assert response.status_code == 403
    assert response.json() == {"error": "trial_expired"}
    # Refused, not used up.
    services.switch_to_paid(Client.objects.get(pk=client_a1.pk), acting_user=None, origin="test")
    assert refresh(agent, refresh_token).status_code == 200


def test_a_password_reset_revokes_refresh_tokens(agent, client_a1):
    _, refresh_token = pair(agent)
    services.set_client_password(client_a1, "new-pass-123", acting_user=None, origin="test")
    assert_refused(refresh(agent, refresh_token))


def test_a_move_keeps_refresh_tokens(agent, client_a1, customer_a_east):
    _, refresh_token = pair(agent)
    services.move_client(client_a1, customer_a_east, acting_user=None, origin="test")
    response = refresh(agent, refresh_token)
    assert response.status_code == 200
    assert response.json()["customer"] == {"name": "East Widgets"}


def test_deleting_a_client_deletes_its_refresh_tokens(agent, client_a1):
    _, refresh_token = pair(agent)
    services.delete_client(client_a1, acting_user=None, origin="test")
    assert not AgentRefreshToken.objects.exists()
    assert_refused(refresh(agent, refresh_token))


# Bad input


@pytest.mark.parametrize(
    "body, field",
    [
        ([], "body"),
        ({}, "refresh_token"),
        ({"refresh_token": None}, "refresh_token"),
        ({"refresh_token": ""}, "refresh_token"),
        ({"refresh_token": 12345}, "refresh_token"),
        ({"refresh_token": ["a"]}, "refresh_token"),
        ({"refresh_token": "a" * 201}, "refresh_token"),
        ({"refresh_token": "abc\x00def"}, "refresh_token"),
        ({"refresh_token": "\ud800"}, "refresh_token"),
        ("not json", "body"),
    ],
)
def test_bad_bodies_are_400_with_the_field(agent, client_a1, body, field):
    response = agent.post(REFRESH, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["fields"]


def test_refresh_takes_post_only(agent):
    response = agent.get(REFRESH)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"error": "method_not_allowed"}


def test_refresh_wants_a_json_content_type(agent):
    response = agent.client.generic(
        "POST", REFRESH, '{"refresh_token": "x"}', content_type="text/plain"
    )
    assert response.status_code == 415


# Rate limit and cost


def test_failed_refreshes_limit_refreshes_from_that_address_but_never_its_connects(
    agent, client_a1, settings
):
    settings.AGENT_REFRESH_MAX_FAILURES_PER_IP = 3
    _, refresh_token = pair(agent)
    for _ in range(3):
        assert_refused(refresh(agent, "y" * 43))
    response = refresh(agent, "z" * 43)
    assert response.status_code == 429
    assert response.json() == {"error": "rate_limited"}
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    # Past the limit, failures are no longer counted (nor pruned: nothing is written).
    assert AuthFailure.objects.count() == 3
    # Another address is not limited.
    other = Agent(agent.client, ip="203.0.113.9")
    assert_refused(refresh(other, "y" * 43))
    # Nobody guesses 256 bits: a valid refresh token still refreshes from the limited
    # address, and its connects are not refused either.
    assert refresh(agent, refresh_token).status_code == 200
    assert agent.connect("a1@acme.example", "client-pass-1").status_code == 200


def test_refresh_costs_a_few_queries_and_no_password_check(
    agent, client_a1, django_assert_num_queries, monkeypatch
):
    _, refresh_token = pair(agent)

    def no_hash(*args, **kwargs):
        raise AssertionError("a refresh checks no password")

    monkeypatch.setattr("django.contrib.auth.hashers.check_password", no_hash)
    monkeypatch.setattr("django.contrib.auth.hashers.make_password", no_hash)
    # The token with its client (locked), customer and reseller; the claim; then each
    # new token and the deletion of stale ones of its kind: six, with the savepoint and
    # its release inside the test's transaction (BEGIN and COMMIT outside a test).
    with django_assert_num_queries(8):
        assert refresh(agent, refresh_token).status_code == 200


# The connect queue


def test_a_connect_without_a_free_slot_is_503_with_retry_after(agent, client_a1, settings):
    settings.AGENT_CONNECT_CONCURRENCY = 1
    settings.AGENT_CONNECT_WAIT_SECONDS = 0
    seen_before = Client.objects.get(pk=client_a1.pk).last_seen_at
    with connect_queue.slot():  # the process's only slot is taken
        response = agent.connect("a1@acme.example", "client-pass-1")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "service_unavailable"
    assert "Too many agents are connecting at once" in body["message"]
    low, high = connect_queue.RETRY_AFTER_SECONDS
    assert low <= int(response["Retry-After"]) <= high
    # Refused before anything: no attempt counted, no token, the client untouched.
    assert not AuthFailure.objects.exists()
    assert not AgentToken.objects.exists()
    assert Client.objects.get(pk=client_a1.pk).last_seen_at == seen_before
    # The slot is free again: the same connect goes through.
    assert agent.connect("a1@acme.example", "client-pass-1").status_code == 200


def test_a_full_connect_queue_still_answers_bad_bodies_and_refreshes(agent, client_a1, settings):
    settings.AGENT_CONNECT_CONCURRENCY = 1
    settings.AGENT_CONNECT_WAIT_SECONDS = 0
    _, refresh_token = pair(agent)
    with connect_queue.slot():
        assert agent.post(CONNECT, {"password": "x"}).status_code == 400
        assert refresh(agent, refresh_token).status_code == 200


def test_every_slot_counts(agent, client_a1, settings):
    settings.AGENT_CONNECT_CONCURRENCY = 2
    settings.AGENT_CONNECT_WAIT_SECONDS = 0
    with connect_queue.slot():
        assert agent.connect("a1@acme.example", "client-pass-1").status_code == 200
        with connect_queue.slot():
            assert agent.connect("a1@acme.example", "client-pass-1").status_code == 503
