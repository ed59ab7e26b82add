"""What writes events to the outbox, with the change: the agent's backup report (a
failed backup; the customer's storage crossing 90% or 100% of its usage space, once per
crossing), a pending agent and its approval, a new client and a disabled one."""

from django.urls import reverse

from clients.agent_store import storage_crossed
from clients.models import Event
from hierarchy.models import Node
from tests.agent.conftest import Agent


def types():
    return list(Event.objects.order_by("created_at", "pk").values_list("type", flat=True))


def test_storage_crossing_90_and_100_percent_once_each(client, customer_a_east):
    Node.objects.filter(pk=customer_a_east.pk).update(usage_space_bytes=1000)
    agent = Agent(client)
    token = agent.token("box@east.example", "box-pass-2026", customer_a_east.registration_key)
    Event.objects.all().delete()
    for used in (850, 899, 900, 950, 1000, 1200, 500, 1100):
        assert agent.report(token, used_bytes=used).status_code == 201
    assert types() == ["storage.warning", "storage.full", "storage.full"]
    full = Event.objects.filter(type="storage.full").order_by("pk").first()
    assert full.data == {
        "securecloud_id": "box@east.example",
        "used_bytes": 1000,
        "usage_space_bytes": 1000,
    }
    assert (
        full.customer_id == customer_a_east.pk and full.client.securecloud_id == "box@east.example"
    )


def test_a_failed_backup_is_an_event_a_success_is_not(client, customer_a_east):
    agent = Agent(client)
    token = agent.token("box@east.example", "box-pass-2026", customer_a_east.registration_key)
    agent.report(token, status="success")
    agent.report(token, status="warning")
    agent.report(token, status="failed", message="VSS error")
    assert types() == ["client.added", "backup.failed"]
    event = Event.objects.get(type="backup.failed")
    assert event.data["message"] == "VSS error" and event.data["status"] == "failed"


def test_the_storage_rule():
    assert storage_crossed(800, 900, 1000) == "storage.warning"
    assert storage_crossed(800, 1000, 1000) == "storage.full"
    assert storage_crossed(950, 999, 1000) is None
    assert storage_crossed(1000, 1200, 1000) is None
    assert storage_crossed(0, 10**12, None) is None


def test_pending_and_approved_are_events(client, customer_a1, alice_client):
    agent = Agent(client)
    key = customer_a1.registration_key
    agent.connect("wait@acme.example", "wait-pass-2026", key, hostname="box")
    agent.connect("wait@acme.example", "wait-pass-2026", key)  # the same request
    pending = Event.objects.get(type="client.pending")
    assert pending.data["hostname"] == "box" and pending.customer_id == customer_a1.pk
    waiting = customer_a1.pending_requests.get()
    alice_client.post(reverse("pending-approve", args=[waiting.code]))
    assert types() == ["client.pending", "client.approved"]
