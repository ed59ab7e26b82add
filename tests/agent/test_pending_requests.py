"""Agents waiting for approval: a valid registration key and an unknown SecureCloud ID
under a customer whose auto-authorization is off (Acme) is kept as one pending request,
answered 403 authorization_pending; the customer pane lists it with Approve and Reject;
approving makes a Trial client with the presented password, so the next connect works."""

from datetime import timedelta

from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from clients import pending
from clients.models import Client, PendingRequest
from hierarchy.models import AuditEvent
from tests.agent.conftest import Agent

ID = "new-box@acme.example"
PASSWORD = "new-box-pass-1"


def ask(agent, customer, **fields):
    return agent.connect(ID, PASSWORD, customer.registration_key, **fields)


def test_an_unknown_id_waits_for_approval_as_one_request(agent, customer_a1):
    response = ask(agent, customer_a1, hostname="box-1", agent_version="7.1")
    assert response.status_code == 403
    assert response.json() == {"error": "authorization_pending"}
    waiting = PendingRequest.objects.get()
    assert (waiting.customer, waiting.securecloud_id) == (customer_a1, ID)
    assert (waiting.hostname, waiting.agent_version, waiting.address) == (
        "box-1",
        "7.1",
        "198.51.100.7",
    )
    assert waiting.password != PASSWORD and waiting.attempts == 1
    assert not Client.objects.filter(securecloud_id=ID).exists()

    # Repeated attempts update the one request.
    assert ask(agent, customer_a1, hostname="box-1b").status_code == 403
    waiting = PendingRequest.objects.get()
    assert (waiting.attempts, waiting.hostname) == (2, "box-1b")
    assert AuditEvent.objects.filter(action="client.pending").count() == 1


def test_a_wrong_key_is_the_usual_401_and_leaves_no_request(agent, customer_a1):
    response = agent.connect(ID, PASSWORD, "not-a-key")
    assert response.status_code == 401
    assert not PendingRequest.objects.exists()


def test_the_rate_limit_applies_before_a_request_is_kept(agent, customer_a1, settings):
    settings.AGENT_CONNECT_MAX_FAILURES_PER_IP = 2
    for _ in range(2):
        assert agent.connect(ID, PASSWORD, "wrong-key").status_code == 401
    assert ask(agent, customer_a1).status_code == 429
    assert not PendingRequest.objects.exists()


def test_a_request_expires_after_7_days(agent, customer_a1, alice_client):
    ask(agent, customer_a1)
    PendingRequest.objects.update(last_attempt_at=timezone.now() - timedelta(days=7, minutes=1))
    html = alice_client.get(reverse("customer-pane", args=[customer_a1.code])).content.decode()
    assert "Pending approval" not in html
    # A new attempt after that is a new request.
    ask(agent, customer_a1)
    assert PendingRequest.objects.get().attempts == 1


def test_pending_then_approve_in_the_console_then_connect(agent, customer_a1, alice_client):
    assert ask(agent, customer_a1, hostname="box-1").status_code == 403
    pane = reverse("customer-pane", args=[customer_a1.code])
    html = alice_client.get(pane).content.decode()
    assert "Pending approval" in html and ID in html
    waiting = PendingRequest.objects.get()
    response = alice_client.post(reverse("pending-approve", args=[waiting.code]))
    assert response.status_code == 302 and response["Location"] == pane
    client = Client.objects.get(securecloud_id=ID)
    assert client.plan == Client.Plan.TRIAL and client.customer == customer_a1
    assert client.hostname == "box-1"
    assert not PendingRequest.objects.exists()
    assert AuditEvent.objects.filter(action="client.approved", object_code=client.code).exists()

    # The agent's next connect, with the password it presented, succeeds.
    response = ask(agent, customer_a1)
    assert response.status_code == 200, response.content
    client.refresh_from_db()
    assert client.status == Client.Status.ACTIVE
    assert agent.connect(ID, "another-password").status_code == 401


def test_reject_drops_the_request_and_the_agent_stays_refused(agent, customer_a1, alice_client):
    ask(agent, customer_a1)
    waiting = PendingRequest.objects.get()
    alice_client.post(reverse("pending-reject", args=[waiting.code]))
    assert not PendingRequest.objects.exists()
    assert not Client.objects.filter(securecloud_id=ID).exists()
    assert AuditEvent.objects.filter(action="client.rejected").exists()
    assert ask(agent, customer_a1).status_code == 403


def test_approving_twice_or_after_the_id_was_taken_is_a_message(
    agent, customer_a1, alice_client, customer_a_east
):
    ask(agent, customer_a1)
    waiting = PendingRequest.objects.get()
    # Meanwhile the same ID was added elsewhere (an auto-authorizing customer).
    assert (
        Agent(HttpClient(), ip="198.51.100.9")
        .connect(ID, PASSWORD, customer_a_east.registration_key)
        .status_code
        == 201
    )
    response = alice_client.post(reverse("pending-approve", args=[waiting.code]), follow=True)
    assert "already taken" in response.content.decode()
    assert PendingRequest.objects.exists()
    response = alice_client.post(reverse("pending-reject", args=[waiting.code]))
    assert alice_client.post(reverse("pending-approve", args=[waiting.code])).status_code == 404


def test_another_tenant_cannot_see_or_approve(agent, customer_a1, bob_client):
    ask(agent, customer_a1)
    waiting = PendingRequest.objects.get()
    assert bob_client.post(reverse("pending-approve", args=[waiting.code])).status_code == 404
    assert PendingRequest.objects.exists()


def test_the_service_refreshes_one_request(customer_a1):
    first, new = pending.record_attempt(
        customer_a1,
        securecloud_id=ID,
        password=PASSWORD,
        hostname=None,
        agent_version=None,
        address=None,
        origin="test",
    )
    again, new_again = pending.record_attempt(
        customer_a1,
        securecloud_id=ID,
        password=PASSWORD,
        hostname="h",
        agent_version=None,
        address=None,
        origin="test",
    )
    assert (new, new_again) == (True, False) and first.pk == again.pk
