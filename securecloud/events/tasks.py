"""The delivery task (django-tasks): one attempt of one webhook delivery; a failed one
is queued again for when its retry is due, on a queue that can wait (the database
backend, Celery). The immediate backend of a plain `make run` cannot: there `run_alerts`
sends the retries that are due (as it does for any retry whose message was lost)."""

from datetime import datetime

from django_tasks import task

from securecloud.events.delivery import attempt
from securecloud.events.models import WebhookDelivery


@task()
def deliver_webhook(delivery_id: int) -> str:
    """Attempt one delivery; returns its status ("skipped": not due, done or off)."""
    delivery = attempt(delivery_id)
    if delivery is None:
        return "skipped"
    if delivery.status == WebhookDelivery.Status.RETRYING and delivery.next_attempt_at:
        queue_delivery(delivery.pk, run_after=delivery.next_attempt_at)
    return delivery.status


def queue_delivery(delivery_id: int, *, run_after: datetime | None = None) -> None:
    """Queue an attempt now, or at `run_after` where the queue can wait."""
    if run_after is None:
        deliver_webhook.enqueue(delivery_id)
    elif deliver_webhook.get_backend().supports_defer:
        deliver_webhook.using(run_after=run_after).enqueue(delivery_id)
