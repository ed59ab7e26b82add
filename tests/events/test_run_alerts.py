"""run_alerts: the time-based events (trials ending 7, 3 and 1 days before the end,
trials expired, backups missed) once per occurrence however often it runs, the outbox's
leftovers sent, and one alert email per admin per run with the event types it chose."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clients import services as client_services
from clients.models import Client, Event
from securecloud.events import alerts, webhooks
from securecloud.events.models import WebhookDelivery


def run_alerts():
    call_command("run_alerts", stdout=open("/dev/null", "w"))


def ends_in(client, delta):
    Client.objects.filter(pk=client.pk).update(trial_ends_at=timezone.now() + delta)


@pytest.fixture
def three_clients(customer_a1):
    made = [
        client_services.create_client(
            customer_a1,
            securecloud_id=f"c{n}@acme.example",
            password="client-pass-9",
            acting_user=None,
            origin="test",
        )
        for n in range(3)
    ]
    return made


def test_run_alerts_twice_sends_each_alert_once(
    private_ok, receiver, reseller_a, alice, three_clients
):
    webhooks.create_webhook(
        reseller_a,
        url=receiver.url,
        secret="a-very-secret-secret",
        event_types=["trial.expired", "trial.ending"],
        acting_user=None,
        origin="test",
    )
    expired, ending, _fine = three_clients
    ends_in(expired, -timedelta(hours=2))
    ends_in(ending, timedelta(days=2, hours=3))
    mail.outbox.clear()
    run_alerts()
    run_alerts()
    types = sorted(r.headers["X-SecureCloud-Event"] for r in receiver.wait(2))
    assert types == ["trial.ending", "trial.expired"]
    ending_event = Event.objects.get(type="trial.ending")
    assert ending_event.data["days"] == 3 and ending_event.client == ending
    # alice's default alerts include trial.expired, not trial.ending: one email, once.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@alpha.example"]
    assert "c0@acme.example" in mail.outbox[0].body
    assert "c1@acme.example" not in mail.outbox[0].body

    # The next mark (1 day before the end) is a new occurrence; so is a new trial end.
    ends_in(ending, timedelta(hours=20))
    run_alerts()
    run_alerts()
    assert Event.objects.filter(type="trial.ending").count() == 2
    client_services.extend_trial(
        Client.objects.get(pk=expired.pk), 1, acting_user=None, origin="test"
    )
    ends_in(expired, -timedelta(minutes=5))
    run_alerts()
    assert Event.objects.filter(type="trial.expired").count() == 2
    assert WebhookDelivery.objects.count() == 4 == len(receiver.wait(4))


def test_missed_backups_once_per_silence(reseller_a, alice, three_clients):
    long_ago = timezone.now() - timedelta(days=3)
    Client.objects.update(created_at=long_ago)
    Client.objects.filter(pk=three_clients[0].pk).update(
        last_success_at=timezone.now() - timedelta(hours=1)
    )
    run_alerts()
    run_alerts()
    missed = Event.objects.filter(type="backup.missed")
    assert sorted(event.client.securecloud_id for event in missed) == [
        "c1@acme.example",
        "c2@acme.example",
    ]
    # A success, then silence again: a new occurrence.
    Client.objects.filter(pk=three_clients[1].pk).update(
        last_success_at=timezone.now() - timedelta(hours=30)
    )
    run_alerts()
    assert Event.objects.filter(type="backup.missed").count() == 3


def test_one_email_per_admin_per_run_with_the_chosen_types(
    reseller_a, alice, sam, customer_a_east, three_clients
):
    alerts.set_alert_types(
        alice, ["client.added", "client.disabled"], acting_user=alice, origin="test"
    )
    mail.outbox.clear()
    for client in three_clients:
        client_services.disable_client(client, acting_user=None, origin="test")
    client_services.create_client(
        customer_a_east, securecloud_id="east@east.example", acting_user=None, origin="test"
    )
    run_alerts()
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {"alice@alpha.example"}  # sam's defaults: none of these
    body = by_recipient["alice@alpha.example"].body
    assert body.count("Client disabled") == 3 and "east@east.example" in body
    # The three clients' additions too: 7 events, one email.
    assert body.count("Client added") == 4
    assert "7 new events" in by_recipient["alice@alpha.example"].subject
    run_alerts()
    assert len(mail.outbox) == 1


def test_an_admin_chooses_its_alerts_on_the_account_page(alice_client, alice):
    page = alice_client.get(reverse("account-alerts"))
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'value="backup.failed"\s+id="[^"]+" checked', html)
    assert not re.search(r'value="backup.missed"\s+id="[^"]+" checked', html)
    response = alice_client.post(reverse("account-alerts"), {"event_types": ["storage.full"]})
    assert response.status_code == 302
    assert alerts.alert_types_of(alice) == ["storage.full"]
    response = alice_client.post(reverse("account-alerts"), {"event_types": ["bogus"]})
    assert response.status_code == 200 and alerts.alert_types_of(alice) == ["storage.full"]


def test_the_outbox_leftovers_are_sent_by_run_alerts(private_ok, receiver, reseller_a, client_a1):
    webhooks.create_webhook(
        reseller_a,
        url=receiver.url,
        secret="a-very-secret-secret",
        acting_user=None,
        origin="test",
    )
    # As after a crash between the commit and the delivery: the commit's delivery never ran.
    client_services.disable_client(client_a1, acting_user=None, origin="test")
    assert receiver.requests == []
    run_alerts()
    assert [r.headers["X-SecureCloud-Event"] for r in receiver.wait(1)] == ["client.disabled"]
