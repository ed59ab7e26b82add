"""Mail's tables: the email delivery ledger and the shared backup-health snapshot.

Both were first created by the hierarchy app and keep its table names
(`hierarchy_emaildelivery`, `hierarchy_healthsnapshot`): moving them here changed no
data. Their foreign keys point at the tree's nodes, below them.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from hierarchy.models import Node


class EmailDelivery(models.Model):
    """One email the console sent or tried to send: its state for the console and the
    ledger that keeps reports to at most one per recipient and period.

    Customer emails (welcome, reports) point at the customer; the admins' summaries at
    the reseller node whose subtree they cover. Rows go with their node (CASCADE): they
    are that node's history, and a node can only be deleted once it is empty anyway.
    """

    class Kind(models.TextChoices):
        WELCOME = "welcome", "Welcome email"
        REPORT_DAILY = "report_daily", "Daily backup report"
        REPORT_WEEKLY = "report_weekly", "Weekly backup report"
        SUMMARY_DAILY = "summary_daily", "Daily reseller summary"
        SUMMARY_WEEKLY = "summary_weekly", "Weekly reseller summary"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    CUSTOMER_KINDS = (Kind.WELCOME, Kind.REPORT_DAILY, Kind.REPORT_WEEKLY)
    REPORT_KINDS = (Kind.REPORT_DAILY, Kind.REPORT_WEEKLY)
    SUMMARY_KINDS = (Kind.SUMMARY_DAILY, Kind.SUMMARY_WEEKLY)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        Node, null=True, blank=True, on_delete=models.CASCADE, related_name="email_deliveries"
    )
    reseller = models.ForeignKey(
        Node, null=True, blank=True, on_delete=models.CASCADE, related_name="summary_deliveries"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # "" for the welcome email; "2026-11-28" for a daily report; "2026-W48" (ISO week) weekly.
    period_key = models.CharField(max_length=10, blank=True)
    recipient = models.EmailField()
    subject = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "hierarchy_emaildelivery"
        verbose_name_plural = "email deliveries"
        indexes = [
            models.Index(fields=["customer", "kind", "created_at"], name="email_customer_kind_idx"),
            models.Index(fields=["status", "updated_at"], name="email_status_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind__in=["welcome", "report_daily", "report_weekly"],
                        customer__isnull=False,
                        reseller__isnull=True,
                    )
                    | Q(
                        kind__in=["summary_daily", "summary_weekly"],
                        customer__isnull=True,
                        reseller__isnull=False,
                    )
                ),
                name="email_delivery_target",
                violation_error_message="Customer emails need a customer; summaries a reseller.",
            ),
            # At most one report per customer and period, one summary per admin and period.
            models.UniqueConstraint(
                "customer",
                "kind",
                "period_key",
                condition=Q(kind__in=["report_daily", "report_weekly"]),
                name="unique_report_per_period",
            ),
            models.UniqueConstraint(
                "reseller",
                "kind",
                "period_key",
                "recipient",
                condition=Q(kind__in=["summary_daily", "summary_weekly"]),
                name="unique_summary_per_period",
            ),
        ]

    def __str__(self) -> str:
        period = f" {self.period_key}" if self.period_key else ""
        return f"{self.get_kind_display()}{period} to {self.recipient} ({self.status})"

    @property
    def is_report(self) -> bool:
        return self.kind in self.REPORT_KINDS


class HealthSnapshot(models.Model):
    """The backup-health counts of a reseller's subtree as of `computed_at`.

    Counting silent clients reads every client of the subtree; the console shows that
    count from a snapshot at most HEALTH_MAX_AGE old, shared by every server process
    (failed backups and customers over their usage space it counts as it shows them).
    """

    reseller = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField()
    failed = models.PositiveIntegerField()
    stale = models.PositiveIntegerField()
    over = models.PositiveIntegerField()
    # Trials ending within 7 days and expired trials: also a read of many clients.
    trials_ending = models.PositiveIntegerField(default=0)
    expired = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "hierarchy_healthsnapshot"

    def __str__(self) -> str:
        return f"health of {self.reseller_id} at {self.computed_at:%H:%M:%S}"
