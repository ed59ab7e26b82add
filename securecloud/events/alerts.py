"""Email alerts: each admin chooses on its account page which event types email it
(DEFAULT_ALERT_TYPES until it does). `run_alerts` sends each admin one email per run
with the events of its subtree that it chose, not one email per client; every event is
considered once (`Event.alerted_at`). A reseller may also have its customers' contacts
emailed when their trials are about to end (one email per customer per run)."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from clients.models import Event
from hierarchy import audit
from hierarchy.actors import ActingUser
from hierarchy.models import Membership
from securecloud.events.models import (
    DEFAULT_ALERT_TYPES,
    EVENT_TYPES,
    AlertPreference,
    ResellerAlertSetting,
)
from securecloud.mail.delivery import from_address

logger = logging.getLogger(__name__)

BATCH = 5000
LABELS = dict(Event.Type.choices)


def alert_types_of(user: Any) -> list[str]:
    preference = AlertPreference.objects.filter(user=user).first()
    return list(preference.event_types) if preference is not None else list(DEFAULT_ALERT_TYPES)


def set_alert_types(
    user: Any, event_types: Iterable[str], *, acting_user: ActingUser, origin: str
) -> list[str]:
    """The admin's choice (an empty choice: no alert emails)."""
    chosen = [value for value in EVENT_TYPES if value in set(event_types)]
    unknown = set(event_types) - set(EVENT_TYPES)
    if unknown:
        raise ValidationError(f"Unknown event type: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        before = alert_types_of(user)
        AlertPreference.objects.update_or_create(user=user, defaults={"event_types": chosen})
        membership = Membership.objects.filter(user=user).select_related("reseller").first()
        if before != chosen:
            audit.record(
                "login.alerts_changed",
                None,
                acting_user=acting_user,
                origin=origin,
                object_type="login",
                reseller=membership.reseller if membership else None,
                changes={"alerts": [", ".join(before), ", ".join(chosen)]},
            )
    return chosen


@dataclass
class Digest:
    recipient: str
    username: str
    lines: list[str] = field(default_factory=list)
    customer: bool = False  # to a customer's contact (trials ending), not an admin


def _line(event: Event) -> str:
    where = event.customer.name if event.customer else "(deleted customer)"
    who = event.client.securecloud_id if event.client else event.data.get("securecloud_id", "")
    what = LABELS.get(event.type, event.type)
    detail = ""
    if event.type == Event.Type.TRIAL_ENDING:
        detail = f" (in {event.data.get('days')} day(s))"
    elif event.type in (Event.Type.STORAGE_FULL, Event.Type.STORAGE_WARNING):
        detail = f" ({event.data.get('used_bytes')} of {event.data.get('usage_space_bytes')} bytes)"
    client = f" {who}" if who else ""
    return f"- {event.created_at:%Y-%m-%d %H:%M} UTC {what}{detail}: {where}{client}"


def send_email_alerts(now: datetime | None = None) -> int:
    """One email per admin with the run's events it chose; returns the emails sent."""
    now = now or timezone.now()
    sent = 0
    while True:
        with transaction.atomic():
            batch = list(
                Event.objects.filter(alerted_at__isnull=True)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("customer", "client")
                .order_by("created_at", "pk")[:BATCH]
            )
            if not batch:
                return sent
            digests = _digests(batch) + _customer_trial_digests(batch)
            Event.objects.filter(pk__in=[event.pk for event in batch]).update(alerted_at=now)
        for digest in digests:
            sent += _send(digest)
        if len(batch) < BATCH:
            return sent


def _digests(batch: list[Event]) -> list[Digest]:
    memberships = list(
        Membership.objects.filter(user__is_active=True)
        .exclude(user__email="")
        .exclude(role=Membership.Role.CUSTOMER)
        .filter(reseller__tree_id__in={e.customer.tree_id for e in batch if e.customer})
        .select_related("user", "reseller")
    )
    preferences = {
        preference.user_id: set(preference.event_types)
        for preference in AlertPreference.objects.filter(
            user__in=[membership.user for membership in memberships]
        )
    }
    digests = []
    for membership in memberships:
        wanted = preferences.get(membership.user_id, set(DEFAULT_ALERT_TYPES))
        node = membership.reseller
        lines = [
            _line(event)
            for event in batch
            if event.type in wanted
            and event.customer is not None
            and event.customer.tree_id == node.tree_id
            and node.lft <= event.customer.lft
            and event.customer.rght <= node.rght
        ]
        if lines:
            digests.append(Digest(membership.user.email, membership.user.get_username(), lines))
    return digests


def _customer_trial_digests(batch: list[Event]) -> list[Digest]:
    """For resellers that chose it: one email per customer contact about its trials
    ending (trial.ending events), from the customer's reseller."""
    ending = [
        event
        for event in batch
        if event.type == Event.Type.TRIAL_ENDING
        and event.customer is not None
        and event.customer.contact_email
    ]
    if not ending:
        return []
    enabled = list(
        ResellerAlertSetting.objects.filter(
            email_customers_before_trial_end=True,
            reseller__tree_id__in={event.customer.tree_id for event in ending if event.customer},
        ).select_related("reseller")
    )
    by_customer: dict[int, Digest] = {}
    for event in ending:
        customer = event.customer
        assert customer is not None
        if not any(
            setting.reseller.tree_id == customer.tree_id
            and setting.reseller.lft < customer.lft
            and customer.rght < setting.reseller.rght
            for setting in enabled
        ):
            continue
        digest = by_customer.setdefault(
            customer.pk,
            Digest(
                customer.contact_email, customer.contact_name or customer.name, [], customer=True
            ),
        )
        ends = event.data.get("trial_ends_at", "")
        who = event.client.securecloud_id if event.client else event.data.get("securecloud_id")
        digest.lines.append(f"- {who}: the trial ends on {str(ends)[:10]}")
    return list(by_customer.values())


def _send(digest: Digest) -> int:
    count = len(digest.lines)
    if digest.customer:
        subject = "Your SecureCloud trial ends soon"
        body = (
            f"Hello {digest.username},\n\nThe trial of these backups ends soon:\n\n"
            + "\n".join(digest.lines)
            + "\n\nTo keep them running, ask your provider to switch them to Paid.\n"
        )
    else:
        subject = f"SecureCloud alerts: {count} new event{'s' if count != 1 else ''}"
        body = (
            f"Hello {digest.username},\n\nWhat happened since the last alerts:\n\n"
            + "\n".join(digest.lines)
            + "\n\nChoose which events email you on your account page in the console.\n"
        )
    message = EmailMessage(
        subject=subject, body=body, from_email=from_address(), to=[digest.recipient]
    )
    try:
        message.send()
    except Exception:  # the mail server; the next digest is tried all the same
        logger.exception("could not send alerts to %s", digest.recipient)
        return 0
    return 1
