"""run_alerts as a task (what Celery beat runs every few minutes): the same run as the
command, so the two may take turns, each occurrence reported once."""

from datetime import timedelta
from io import StringIO

from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus

from clients import services as client_services
from clients.models import Client, Event
from securecloud.events import webhooks
from securecloud.events.alert_run import run_alerts_task
from securecloud.events.models import WebhookDelivery


def test_the_task_reports_sends_and_emails_as_run_alerts_does(
    private_ok, receiver, reseller_a, alice, customer_a1
):
    webhooks.create_webhook(
        reseller_a,
        url=receiver.url,
        secret="a-very-secret-secret",
        event_types=["trial.expired"],
        acting_user=None,
        origin="test",
    )
    client = client_services.create_client(
        customer_a1,
        securecloud_id="late@acme.example",
        password="client-pass-9",
        acting_user=None,
        origin="test",
    )
    Client.objects.filter(pk=client.pk).update(trial_ends_at=timezone.now() - timedelta(hours=2))
    Event.objects.update(dispatched_at=timezone.now())  # client.added: not this test's
    mail.outbox.clear()

    result = run_alerts_task.enqueue()

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {
        "trial_events": 1,
        "missed_backups": 0,
        "expired_pending_requests": 0,
        "new_deliveries": 1,
        "due_deliveries": 0,
        "alert_emails": 1,
        # The report partitions were made ahead by the migration (PostgreSQL; none on SQLite).
        "partitions_created": [],
        "partitions_busy": "",
    }
    assert Event.objects.filter(type="trial.expired", client=client).count() == 1
    [received] = receiver.wait(1)
    assert received.headers["X-SecureCloud-Event"] == "trial.expired"
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.SUCCEEDED
    [email] = mail.outbox
    assert email.to == [alice.email] and "late@acme.example" in email.body

    # The command after the task finds nothing left to report: one run, two ways in.
    out = StringIO()
    call_command("run_alerts", stdout=out)
    assert "Trial events: 0." in out.getvalue()
    assert "Webhook deliveries: 0 new, 0 due sent. Alert emails: 0." in out.getvalue()
    assert len(receiver.requests) == 1 and len(mail.outbox) == 1


def test_the_task_sends_the_retries_that_are_due(private_ok, receiver, reseller_a, client_a1):
    webhooks.create_webhook(
        reseller_a,
        url=receiver.url,
        secret="a-very-secret-secret",
        event_types=["client.disabled"],
        acting_user=None,
        origin="test",
    )
    receiver.answers = [500]
    client_services.disable_client(client_a1, acting_user=None, origin="test")
    run_alerts_task.enqueue()  # the outbox: the first attempt fails
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.RETRYING
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))

    result = run_alerts_task.enqueue()

    assert result.return_value["due_deliveries"] == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 2
