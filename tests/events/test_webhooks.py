"""Webhooks: a signed delivery reaches a real receiver within seconds of an agent's
failed backup; retries after 500 answers carry the same delivery id and body; a
rolled-back change sends nothing; a webhook gets its whole subtree's events only; 50
failures in a row switch it off and email the Administrators."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from clients import services as client_services
from clients.models import Event
from securecloud.events import webhooks
from securecloud.events.delivery import DISABLE_AFTER_FAILURES
from securecloud.events.models import Webhook, WebhookDelivery
from tests.agent.conftest import Agent

SECRET = "a-very-secret-secret"


def add_hook(reseller, url, **fields):
    return webhooks.create_webhook(
        reseller, url=url, secret=SECRET, acting_user=None, origin="test", **fields
    )


def signed(received) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(received.headers["X-SecureCloud-Signature"], expected)


@pytest.fixture
def east_token(client, customer_a_east, django_capture_on_commit_callbacks):
    """An agent of East Widgets (auto-authorization on), connected: its client.added
    event is delivered as a commit would."""
    agent = Agent(client)
    with django_capture_on_commit_callbacks(execute=True):
        token = agent.token("box@east.example", "box-pass-2026", customer_a_east.registration_key)
    return agent, token


def make_due():
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_failed_backup_reaches_a_real_receiver_signed_within_seconds(
    private_ok, receiver, reseller_a, east_token, django_capture_on_commit_callbacks
):
    add_hook(reseller_a, receiver.url, event_types=["backup.failed"])
    agent, token = east_token
    with django_capture_on_commit_callbacks(execute=True):
        response = agent.report(token, status="failed", message="disk full")
    assert response.status_code == 201
    requests = receiver.wait(1, seconds=5)
    assert len(requests) == 1
    received = requests[0]
    assert received.path == "/hooks/sc"
    assert received.headers["X-SecureCloud-Event"] == "backup.failed"
    assert signed(received)
    body = json.loads(received.body)
    assert set(body) == {"id", "type", "created_at", "reseller", "customer", "client", "data"}
    assert body["type"] == "backup.failed"
    assert received.headers["X-SecureCloud-Delivery"] == body["id"]
    assert body["customer"]["name"] == "East Widgets"
    assert body["reseller"]["name"] == "Alpha East"
    assert body["client"]["securecloud_id"] == "box@east.example"
    assert body["data"]["message"] == "disk full"
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.SUCCEEDED


def test_retries_after_500_answers_carry_the_same_delivery_id(
    private_ok, receiver, reseller_a, east_token, django_capture_on_commit_callbacks
):
    add_hook(reseller_a, receiver.url)
    receiver.answers = [500, 503, 200]
    agent, token = east_token
    with django_capture_on_commit_callbacks(execute=True):
        agent.report(token, status="failed")
    delivery = WebhookDelivery.objects.get(event_type="backup.failed")
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert delivery.status_code == 500 and delivery.attempts == 1
    # The first retry about a minute later, the next about five minutes after that.
    assert timedelta(seconds=50) < delivery.next_attempt_at - timezone.now() < timedelta(seconds=70)
    call_command("run_alerts", stdout=open("/dev/null", "w"))  # not due yet: nothing sent
    assert len(receiver.requests) == 1
    make_due()
    call_command("run_alerts", stdout=open("/dev/null", "w"))
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.status_code == 503
    assert delivery.next_attempt_at - timezone.now() > timedelta(minutes=4)
    make_due()
    call_command("run_alerts", stdout=open("/dev/null", "w"))
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 3
    failed = [r for r in receiver.requests if r.headers["X-SecureCloud-Event"] == "backup.failed"]
    assert len(failed) == 3
    assert len({r.headers["X-SecureCloud-Delivery"] for r in failed}) == 1
    assert len({r.body for r in failed}) == 1 and all(signed(r) for r in failed)
    assert Webhook.objects.get().consecutive_failures == 0


def test_an_event_of_a_rolled_back_change_is_never_sent(
    private_ok, receiver, reseller_a, client_a1, django_capture_on_commit_callbacks
):
    add_hook(reseller_a, receiver.url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                client_services.disable_client(client_a1, acting_user=None, origin="test")
                assert Event.objects.filter(type="client.disabled").exists()
                raise RuntimeError("the change fails after the event was written")
    assert callbacks == []
    assert not Event.objects.filter(type="client.disabled").exists()
    call_command("run_alerts", stdout=open("/dev/null", "w"))
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_an_event_is_written_with_its_change_and_sent_after_the_commit(
    private_ok, receiver, reseller_a, client_a1, django_capture_on_commit_callbacks
):
    add_hook(reseller_a, receiver.url, event_types=["client.disabled"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_services.disable_client(client_a1, acting_user=None, origin="test")
        assert receiver.requests == []  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert [r.headers["X-SecureCloud-Event"] for r in receiver.wait(1)] == ["client.disabled"]


def test_a_webhook_gets_its_subtree_only(
    private_ok,
    receiver,
    reseller_a,
    reseller_b,
    client_b1,
    customer_a_east,
    django_capture_on_commit_callbacks,
):
    add_hook(reseller_a, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        client_services.disable_client(client_b1, acting_user=None, origin="test")
    assert receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        client_services.create_client(
            customer_a_east, securecloud_id="deep@east.example", acting_user=None, origin="test"
        )
    assert [r.headers["X-SecureCloud-Event"] for r in receiver.wait(1)] == ["client.added"]


def test_only_the_chosen_event_types_are_sent(
    private_ok, receiver, reseller_a, client_a1, django_capture_on_commit_callbacks
):
    add_hook(reseller_a, receiver.url, event_types=["backup.failed"])
    with django_capture_on_commit_callbacks(execute=True):
        client_services.disable_client(client_a1, acting_user=None, origin="test")
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_fifty_failures_in_a_row_switch_it_off_and_email_the_administrators(
    private_ok, receiver, reseller_a, alice, client_a1, django_capture_on_commit_callbacks
):
    hook = add_hook(reseller_a, receiver.url)
    Webhook.objects.filter(pk=hook.pk).update(consecutive_failures=DISABLE_AFTER_FAILURES - 1)
    receiver.answers = [500]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_services.disable_client(client_a1, acting_user=None, origin="test")
    hook.refresh_from_db()
    assert not hook.enabled and hook.disabled_at is not None
    assert [message.to for message in mail.outbox] == [["alice@alpha.example"]]
    assert "switched off" in mail.outbox[0].subject
    # Switched off: its due retry is not sent.
    make_due()
    call_command("run_alerts", stdout=open("/dev/null", "w"))
    assert len(receiver.requests) == 1


def test_send_test_is_signed_and_listed(private_ok, receiver, reseller_a):
    hook = add_hook(reseller_a, receiver.url)
    delivery = webhooks.send_test(hook, acting_user=None, origin="test")
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.status_code == 200
    received = receiver.wait(1)[0]
    assert received.headers["X-SecureCloud-Event"] == "webhook.test" and signed(received)
    assert webhooks.recent_deliveries(hook) == [delivery]


def test_no_answer_within_10_seconds_is_a_failure(monkeypatch, private_ok, reseller_a):
    from securecloud.events import sender

    hook = add_hook(reseller_a, "http://127.0.0.1:9/")  # discard port: refused at once
    monkeypatch.setattr(sender, "TIMEOUT_SECONDS", 0.5)
    delivery = webhooks.send_test(hook, acting_user=None, origin="test")
    assert delivery.status == WebhookDelivery.Status.FAILED and delivery.status_code is None
    assert delivery.error
