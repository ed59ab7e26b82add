"""A customer's missed-backup alert window (24 hours unless set), and a reseller's
choice to email its customers' contacts before their trials end."""

from datetime import timedelta

from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, Event
from securecloud.events import alert_settings


def run_alerts():
    call_command("run_alerts", stdout=open("/dev/null", "w"))


def test_the_missed_backup_window_is_set_per_customer(alice_client, client_a1, customer_a1):
    Client.objects.update(
        created_at=timezone.now() - timedelta(days=5),
        last_success_at=timezone.now() - timedelta(hours=30),
    )
    edit = alice_client.get(reverse("customer-edit", args=[customer_a1.code])).content.decode()
    assert 'name="hours"' in edit and 'value="24"' in edit
    response = alice_client.post(
        reverse("customer-alert-window", args=[customer_a1.code]), {"hours": "48"}
    )
    assert response.status_code == 302
    assert alert_settings.missed_after_hours(customer_a1) == 48
    run_alerts()
    assert not Event.objects.filter(type="backup.missed").exists()  # 30 h < 48 h
    alert_settings.set_missed_after_hours(customer_a1, 12, acting_user=None, origin="test")
    run_alerts()
    event = Event.objects.get(type="backup.missed")
    assert event.client == client_a1 and event.data["window_hours"] == 12


def test_a_bad_window_is_a_message(alice_client, customer_a1):
    for bad in ("0", "x", "100000"):
        response = alice_client.post(
            reverse("customer-alert-window", args=[customer_a1.code]), {"hours": bad}, follow=True
        )
        assert "Enter a number of hours from 1 to 720." in response.content.decode()
    assert alert_settings.missed_after_hours(customer_a1) == 24


def test_another_tenants_customer_window_is_404(bob_client, customer_a1):
    url = reverse("customer-alert-window", args=[customer_a1.code])
    assert bob_client.post(url, {"hours": "5"}).status_code == 404


def test_customers_contacts_are_emailed_before_a_trial_ends_when_the_reseller_says_so(
    alice_client, reseller_a, client_a1
):
    Client.objects.filter(pk=client_a1.pk).update(trial_ends_at=timezone.now() + timedelta(days=2))
    mail.outbox.clear()
    run_alerts()
    assert not [m for m in mail.outbox if m.to == ["it@acme.example"]]  # off by default

    alice_client.post(reverse("reseller-trial-emails", args=[reseller_a.code]), {"enabled": "1"})
    assert alert_settings.emails_customers_before_trial_end(reseller_a)
    Client.objects.filter(pk=client_a1.pk).update(
        trial_ends_at=timezone.now() + timedelta(hours=20)
    )
    mail.outbox.clear()
    run_alerts()
    run_alerts()
    to_customer = [m for m in mail.outbox if m.to == ["it@acme.example"]]
    assert len(to_customer) == 1
    assert "a1@acme.example" in to_customer[0].body and "trial" in to_customer[0].subject
