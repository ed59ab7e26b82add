"""From the outbox to the webhooks: each event not yet dispatched becomes one delivery
per enabled webhook that wants its type, of the event's customer's reseller or any
reseller above (a webhook receives its whole subtree's events), and is marked
dispatched in the same transaction; the deliveries are queued after the commit.

Runs after each commit that wrote events (clients.events) and in `run_alerts`, which
also queues the retries that are due (`send_due`)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from clients.models import Event
from hierarchy.models import Node
from securecloud.events.delivery import encode, payload
from securecloud.events.models import Webhook, WebhookDelivery
from securecloud.events.tasks import queue_delivery

BATCH = 500


def dispatch_pending() -> int:
    """Dispatch what the outbox holds, in batches; returns the deliveries made."""
    made = 0
    while True:
        created, events = _dispatch_batch()
        made += len(created)
        for delivery_id in created:
            queue_delivery(delivery_id)
        if events < BATCH:
            return made


def _dispatch_batch() -> tuple[list[int], int]:
    now = timezone.now()
    with transaction.atomic():
        events = list(
            Event.objects.filter(dispatched_at__isnull=True)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("customer__parent", "client")
            .order_by("created_at", "pk")[:BATCH]
        )
        if not events:
            return [], 0
        hooks = _webhooks_for({event.customer for event in events if event.customer})
        deliveries = []
        for event in events:
            if event.customer is None:
                continue
            for webhook in hooks.get(event.customer.pk, []):
                # Only what happened since the webhook was added.
                if webhook.wants(event.type) and webhook.created_at <= event.created_at:
                    deliveries.append(
                        WebhookDelivery(
                            webhook=webhook,
                            event=event,
                            event_code=event.code,
                            event_type=event.type,
                            body=encode(payload(event)),
                            next_attempt_at=now,
                        )
                    )
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        Event.objects.filter(pk__in=[event.pk for event in events]).update(dispatched_at=now)
        created = list(
            WebhookDelivery.objects.filter(
                event__in=events, status=WebhookDelivery.Status.PENDING, attempts=0
            ).values_list("pk", flat=True)
        )
    return created, len(events)


def _webhooks_for(customers: set[Node]) -> dict[int, list[Webhook]]:
    """The enabled webhooks of each customer's resellers (its parent and above)."""
    trees = {customer.tree_id for customer in customers}
    hooks = list(
        Webhook.objects.filter(enabled=True, reseller__tree_id__in=trees).select_related("reseller")
    )
    return {
        customer.pk: [
            hook
            for hook in hooks
            if hook.reseller.tree_id == customer.tree_id
            and hook.reseller.lft < customer.lft
            and hook.reseller.rght > customer.rght
        ]
        for customer in customers
    }


def send_due(now: datetime | None = None) -> int:
    """Attempt every delivery whose (re)try is due (those a queue that cannot wait, or
    a crash, left behind); returns how many were attempted."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
            next_attempt_at__lte=now,
            webhook__enabled=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    for delivery_id in due:
        queue_delivery(delivery_id)
    return len(due)
