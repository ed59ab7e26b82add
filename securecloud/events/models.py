"""Webhooks of a reseller, their deliveries, and each admin's choice of email alerts.

The events themselves are the clients domain's outbox (clients.models.Event)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from clients.models import Event
from hierarchy.models import Node, TenantQuerySetMixin, subtree_q

EVENT_TYPES = [value for value, _label in Event.Type.choices]
# What an admin is emailed about until it chooses.
DEFAULT_ALERT_TYPES = [
    Event.Type.BACKUP_FAILED.value,
    Event.Type.STORAGE_FULL.value,
    Event.Type.CLIENT_PENDING.value,
    Event.Type.TRIAL_EXPIRED.value,
]
TEST_EVENT_TYPE = "webhook.test"


class WebhookQuerySet(TenantQuerySetMixin, models.QuerySet):
    def within(self, node):
        """Webhooks of the resellers in `node`'s subtree."""
        return self.filter(subtree_q(node, "reseller__"))


class Webhook(models.Model):
    """A URL that receives the events of a reseller's whole subtree, signed with its
    secret (HMAC-SHA256 of the body). Switched off after 50 failures in a row."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reseller = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField("URL", max_length=2000)
    # Kept to sign each delivery; never shown again after saving.
    secret = models.CharField(max_length=200)
    event_types = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = WebhookQuerySet.as_manager()

    def __str__(self) -> str:
        return self.url

    def audit_scope(self):
        """(reseller, customer code, object code) its audit events are filed under."""
        return self.reseller, None, self.code

    def wants(self, event_type: str) -> bool:
        return event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event (or a test) sent to one webhook, with its attempts: the same event id
    and the same signed body on every retry."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    event_code = models.UUIDField()
    event_type = models.CharField(max_length=30)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["webhook", "-created_at"], name="delivery_webhook_recent_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=models.Q(status__in=["pending", "retrying"]),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "event"],
                name="delivery_once_per_webhook_event",
                condition=models.Q(event__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.webhook_id} ({self.status})"


class AlertPreference(models.Model):
    """Which event types email this admin (DEFAULT_ALERT_TYPES until it chooses)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference"
    )
    event_types = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"alerts of {self.user_id}"


DEFAULT_MISSED_AFTER_HOURS = 24
MAX_MISSED_AFTER_HOURS = 24 * 30


class CustomerAlertSetting(models.Model):
    """A customer's alert window: no successful backup within it is `backup.missed`
    (DEFAULT_MISSED_AFTER_HOURS for a customer without a row)."""

    customer = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="alert_setting")
    missed_after_hours = models.PositiveIntegerField(default=DEFAULT_MISSED_AFTER_HOURS)

    def __str__(self) -> str:
        return f"{self.customer_id}: missed after {self.missed_after_hours} h"

    def audit_scope(self):
        return self.customer.parent, self.customer.code, self.customer.code


class ResellerAlertSetting(models.Model):
    """A reseller's choice to email its customers' contacts before a trial ends (at the
    trial.ending marks: 7, 3 and 1 days before); it covers its whole subtree."""

    reseller = models.OneToOneField(
        Node, on_delete=models.CASCADE, related_name="alert_setting_of_reseller"
    )
    email_customers_before_trial_end = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.reseller_id}: trial emails {self.email_customers_before_trial_end}"
