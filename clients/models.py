"""Client accounts: the backed-up machines or users at the bottom of the tree.

Clients are plain rows with a foreign key to their customer, not MPTT nodes:
inserting a node rewrites lft/rght of every node to its right, which at 100k
clients per reseller would make each new client a tree-wide rewrite.
"""

import uuid
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from hierarchy.models import Node, TenantQuerySetMixin, subtree_q


def silent_since_q(since) -> models.Q:
    """Clients with no successful backup since `since` (never counts as not since): the
    one definition of a silent client, for the console and the email reports alike.
    Silence is a failure, so a client that has not backed up yet is silent too; a
    disabled client is not expected to back up."""
    return ~models.Q(status=Client.Status.DISABLED) & (
        models.Q(last_success_at__isnull=True) | models.Q(last_success_at__lt=since)
    )


# How long before its end a trial counts as ending (the reseller pane's list).
TRIAL_ENDING_WITHIN = timedelta(days=7)


def expired_trial_q(now: datetime) -> models.Q:
    """Trial clients past their trial's end, not disabled: they show Expired (the
    one definition, for lists, panes, exports and alerts alike)."""
    return models.Q(plan=Client.Plan.TRIAL, trial_ends_at__lte=now) & ~models.Q(
        status=Client.Status.DISABLED
    )


def trial_ending_q(now: datetime, within: timedelta = TRIAL_ENDING_WITHIN) -> models.Q:
    """Trial clients whose trial ends after `now` and within `within`, not disabled."""
    return models.Q(
        plan=Client.Plan.TRIAL, trial_ends_at__gt=now, trial_ends_at__lte=now + within
    ) & ~models.Q(status=Client.Status.DISABLED)


def shown_status_of(plan: str, trial_ends_at, status: str, now) -> str:
    """Client.shown_status from the values alone (for exports that read rows)."""
    if status == Client.Status.DISABLED:
        return status
    if plan == Client.Plan.TRIAL and trial_ends_at is not None and trial_ends_at <= now:
        return Client.EXPIRED
    return status


class ClientQuerySet(TenantQuerySetMixin, models.QuerySet):
    def within(self, node):
        """Clients of the customers in `node`'s subtree."""
        return self.filter(subtree_q(node, "customer__"))


class Client(models.Model):
    class Plan(models.TextChoices):
        TRIAL = "trial", "Trial"
        PAID = "paid", "Paid"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"

    # The status a trial past its end shows, everywhere a status shows. Never stored:
    # it follows from the plan and the trial's end (`shown_status`), so it holds the
    # moment the trial ends, and the stored status stays pending, active or disabled.
    EXPIRED = "expired"
    EXPIRED_LABEL = "Expired"

    class BackupStatus(models.TextChoices):
        SUCCESS = "success", "Success"
        WARNING = "warning", "Warning"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        Node,
        on_delete=models.PROTECT,
        related_name="clients",
        limit_choices_to={"kind": Node.Kind.CUSTOMER},
    )
    # Stored normalised (trimmed, lower-cased), so the unique index is case-insensitive.
    securecloud_id = models.CharField("SecureCloud ID", max_length=254, unique=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    # A Django password hash, or "" while an auto-authorized client has not connected yet.
    password = models.CharField(max_length=256, blank=True)

    plan = models.CharField(max_length=10, choices=Plan.choices, default=Plan.TRIAL)
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)

    used_bytes = models.BigIntegerField("Storage used", default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_backup_at = models.DateTimeField(null=True, blank=True)
    last_backup_status = models.CharField(max_length=10, choices=BackupStatus.choices, blank=True)
    # The last backup that finished with "success": silence is a failure, so the console
    # and the reports flag clients whose last success is too old (or missing).
    last_success_at = models.DateTimeField(null=True, blank=True)
    agent_version = models.CharField(max_length=100, blank=True)
    hostname = models.CharField(max_length=255, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["customer", "securecloud_id"], name="client_customer_id_idx"),
            models.Index(fields=["email"], name="client_email_idx"),
            # The backup-health lists: failed clients, and clients silent since a time.
            models.Index(
                fields=["last_backup_status", "securecloud_id"], name="client_backup_status_idx"
            ),
            models.Index(fields=["last_success_at"], name="client_last_success_idx"),
            # The reseller pane's failed count: per customer of the subtree, its failed
            # clients from the index alone (with the customer index it read every client).
            models.Index(
                fields=["customer", "last_backup_status"], name="client_customer_status_idx"
            ),
            # Trials ending soon and expired trials (the reseller pane, run_alerts).
            models.Index(fields=["plan", "trial_ends_at"], name="client_plan_trial_end_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(plan="paid", trial_ends_at__isnull=True)
                | models.Q(plan="trial", trial_ends_at__isnull=False),
                name="client_trial_has_end",
                violation_error_message="A trial client needs a trial end; a paid one has none.",
            ),
        ]

    def __str__(self) -> str:
        return self.securecloud_id

    def audit_scope(self):
        """(reseller, customer code, object code) its audit events are filed under."""
        return self.customer.parent, self.customer.code, self.code

    @property
    def has_password(self) -> bool:
        return bool(self.password)

    @property
    def is_paid(self) -> bool:
        return self.plan == self.Plan.PAID

    @property
    def is_disabled(self) -> bool:
        return self.status == self.Status.DISABLED

    def shown_status(self, now=None) -> str:
        """The status to show: "disabled", then "expired" for a trial past its end,
        else the stored status (pending or active)."""
        return shown_status_of(self.plan, self.trial_ends_at, self.status, now or timezone.now())

    @property
    def shown_status_label(self) -> str:
        shown = self.shown_status()
        return self.EXPIRED_LABEL if shown == self.EXPIRED else self.Status(shown).label

    def trial_expired(self, now=None) -> bool:
        if self.plan != self.Plan.TRIAL or self.trial_ends_at is None:
            return False
        return self.trial_ends_at <= (now or timezone.now())

    @property
    def trial_days_left(self) -> int | None:
        if self.plan != self.Plan.TRIAL or self.trial_ends_at is None:
            return None
        remaining = self.trial_ends_at - timezone.now()
        return max(0, remaining.days + (1 if remaining.seconds else 0))


class AgentToken(models.Model):
    """A bearer token of one agent connection, stored only as its SHA-256 digest."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="agent_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["client", "created_at"], name="token_client_created_idx")]

    def __str__(self) -> str:
        return f"token of {self.client_id} from {self.created_at:%Y-%m-%d %H:%M}"


class AgentRefreshToken(models.Model):
    """A refresh credential of one agent connection, stored only as its SHA-256 digest.

    It buys a new bearer token without the password's hash (clients.agent_refresh) and
    works once: using it marks it `used_at` and hands out a new one. A used row is kept
    (a few per client) so that presenting it again is recognised as a stolen copy.
    """

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="refresh_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["client", "created_at"], name="refresh_client_created_idx")]

    def __str__(self) -> str:
        state = "used" if self.used_at else "live"
        return f"{state} refresh token of {self.client_id} from {self.created_at:%Y-%m-%d %H:%M}"


class BackupReport(models.Model):
    """One backup run as the agent reported it; kept even when it went over quota."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="backup_reports")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Client.BackupStatus.choices)
    # The client's total stored size after this backup.
    used_bytes = models.BigIntegerField()
    files = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    # The customer was over its usage space once this report was counted.
    over_quota = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["client", "finished_at"], name="report_client_finished_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.status} backup of {self.client_id} at {self.finished_at:%Y-%m-%d %H:%M}"


class AuthFailure(models.Model):
    """One failed agent connect, counted per SecureCloud ID and per client address.

    The rate limit counts these rows, so every server process sees the same numbers;
    rows older than the window are pruned as new failures are written.
    """

    # "id:<normalised securecloud id>" or "ip:<address>"
    key = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["key", "created_at"], name="authfailure_key_created_idx"),
            models.Index(fields=["created_at"], name="authfailure_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} at {self.created_at:%Y-%m-%d %H:%M:%S}"


# How long an agent's request for approval is kept without a new attempt.
PENDING_REQUEST_LIFETIME = timedelta(days=7)


class PendingRequestQuerySet(TenantQuerySetMixin, models.QuerySet):
    def within(self, node):
        """Requests to the customers in `node`'s subtree."""
        return self.filter(subtree_q(node, "customer__"))

    def current(self, now: datetime | None = None) -> "PendingRequestQuerySet":
        """Requests not expired: an attempt within the last 7 days."""
        return self.filter(last_attempt_at__gt=(now or timezone.now()) - PENDING_REQUEST_LIFETIME)


class PendingRequest(models.Model):
    """An agent that connected with a valid registration key and an unknown SecureCloud
    ID to a customer whose auto-authorization is off: it waits for an admin to Approve
    (a Trial client with the password the agent presented) or Reject it. Its repeated
    attempts update this one row; it expires 7 days after the last."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="pending_requests")
    securecloud_id = models.CharField("SecureCloud ID", max_length=254)
    # The hash of the password the agent presented last (never the password itself).
    password = models.CharField(max_length=256)
    hostname = models.CharField(max_length=255, blank=True)
    agent_version = models.CharField(max_length=100, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    first_attempt_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=1)

    objects = PendingRequestQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "securecloud_id"], name="pending_request_customer_id_uniq"
            ),
        ]
        indexes = [models.Index(fields=["last_attempt_at"], name="pending_request_last_idx")]

    def __str__(self) -> str:
        return f"{self.securecloud_id} waiting for approval"

    def audit_scope(self):
        """(reseller, customer code, object code) its audit events are filed under."""
        return self.customer.parent, self.customer.code, self.code


class Event(models.Model):
    """The outbox: something that happened to a client or a customer, written in the
    same transaction as the change that caused it (a rolled-back change leaves none),
    then delivered after the commit by the app that sends events (webhooks, email
    alerts), which marks what it has done: a process that dies after the commit
    loses nothing, the next run sends what is left."""

    class Type(models.TextChoices):
        BACKUP_FAILED = "backup.failed", "Backup failed"
        BACKUP_MISSED = "backup.missed", "Backup missed"
        STORAGE_WARNING = "storage.warning", "Storage at 90% of the usage space"
        STORAGE_FULL = "storage.full", "Storage at the usage space"
        CLIENT_ADDED = "client.added", "Client added"
        CLIENT_PENDING = "client.pending", "Client waiting for approval"
        CLIENT_APPROVED = "client.approved", "Client approved"
        CLIENT_DISABLED = "client.disabled", "Client disabled"
        TRIAL_ENDING = "trial.ending", "Trial ending"
        TRIAL_EXPIRED = "trial.expired", "Trial expired"

    # The event's id: the same on every delivery attempt of it.
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=30, choices=Type.choices)
    created_at = models.DateTimeField(default=timezone.now)
    customer = models.ForeignKey(
        Node, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    # Time-based conditions are reported once per occurrence: the occurrence's key.
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # Handed to the webhooks (their deliveries made), and considered for email alerts.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="event_undispatched_idx",
                condition=models.Q(dispatched_at__isnull=True),
            ),
            models.Index(
                fields=["created_at"],
                name="event_unalerted_idx",
                condition=models.Q(alerted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.created_at:%Y-%m-%d %H:%M:%S}"
