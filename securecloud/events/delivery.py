"""Delivering one event to one webhook: the signed JSON body (built once, so every retry
sends the same bytes under the same event id), an attempt, and what follows it: success,
a retry after a growing delay (1 min, 5 min, 30 min, 2 h, 12 h), or giving up. A webhook
that fails 50 times in a row is switched off and its reseller's Administrators are
emailed."""

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from clients.models import Event
from hierarchy import audit
from hierarchy.models import Membership, Node
from securecloud.events.models import Webhook, WebhookDelivery
from securecloud.events.sender import Answer, post
from securecloud.mail.delivery import from_address

logger = logging.getLogger(__name__)

RETRY_DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER_FAILURES = 50
ORIGIN = "task deliver_webhook"


def payload(event: Event) -> dict[str, Any]:
    """What a webhook receives about an event."""
    customer: Node | None = event.customer
    reseller = customer.parent if customer is not None else None
    client = event.client
    return {
        "id": str(event.code),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "reseller": {"id": str(reseller.code), "name": reseller.name} if reseller else None,
        "customer": {"id": str(customer.code), "name": customer.name} if customer else None,
        "client": (
            {"id": str(client.code), "securecloud_id": client.securecloud_id, "name": client.name}
            if client is not None
            else None
        ),
        "data": event.data,
    }


def encode(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers_for(delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    return {
        "X-SecureCloud-Event": delivery.event_type,
        "X-SecureCloud-Delivery": str(delivery.event_code),
        "X-SecureCloud-Signature": signature(delivery.webhook.secret, body),
    }


def attempt(delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Send the delivery once (unless it is done, not due or its webhook is off) and
    record the outcome. None when there was nothing to do."""
    now = now or timezone.now()
    with transaction.atomic():
        # Claimed by moving its next attempt out: a second worker finds it not due.
        claimed = WebhookDelivery.objects.filter(
            pk=delivery_id,
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
            next_attempt_at__lte=now,
            webhook__enabled=True,
        ).update(next_attempt_at=now + timedelta(seconds=60), attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    body = delivery.body.encode()
    answer = post(delivery.webhook.url, body, headers_for(delivery, body))
    record(delivery, answer, now)
    return delivery


def record(delivery: WebhookDelivery, answer: Answer, now: datetime) -> None:
    delivery.last_attempt_at = now
    delivery.status_code = answer.status_code
    delivery.error = answer.error[:500]
    if answer.ok:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.next_attempt_at = None
    elif delivery.attempts < MAX_ATTEMPTS and delivery.event_id is not None:
        delivery.status = WebhookDelivery.Status.RETRYING
        delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
    else:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    delivery.save(
        update_fields=[
            "last_attempt_at",
            "status_code",
            "error",
            "status",
            "next_attempt_at",
        ]
    )
    webhook = delivery.webhook
    if answer.ok:
        Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=0)
        return
    Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    webhook.refresh_from_db(fields=["consecutive_failures", "enabled"])
    if webhook.enabled and webhook.consecutive_failures >= DISABLE_AFTER_FAILURES:
        switch_off(webhook, now)


def switch_off(webhook: Webhook, now: datetime) -> None:
    """Too many failures in a row: off, in the History, and its Administrators told."""
    with transaction.atomic():
        switched = Webhook.objects.filter(pk=webhook.pk, enabled=True).update(
            enabled=False, disabled_at=now
        )
        if not switched:
            return  # another worker switched it off
        audit.record(
            "webhook.switched_off",
            webhook,
            acting_user=None,
            origin=ORIGIN,
            object_type="webhook",
            changes={"enabled": [True, False], "failures": [None, webhook.consecutive_failures]},
        )
    recipients = administrators_emails(webhook.reseller)
    if not recipients:
        return
    message = EmailMessage(
        subject=f"Webhook switched off: {webhook.url}",
        body=(
            f"The webhook {webhook.url} of {webhook.reseller.name} failed "
            f"{webhook.consecutive_failures} times in a row and has been switched off.\n\n"
            "Its last answers are on the Webhooks page (Reseller Admin → Webhooks), where "
            "you can switch it on again once the receiver works.\n"
        ),
        from_email=from_address(webhook.reseller.name),
        to=recipients,
    )
    try:
        message.send()
    except Exception:  # the mail server: the webhook is off either way
        logger.exception("could not email the Administrators about webhook %s", webhook.code)


def administrators_emails(reseller: Node) -> list[str]:
    """The email addresses of the Administrators of `reseller` and the resellers above."""
    return sorted(
        {
            email
            for email in Membership.objects.filter(
                reseller__in=Node.objects.above(reseller),
                role=Membership.Role.ADMINISTRATOR,
                user__is_active=True,
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        }
    )
