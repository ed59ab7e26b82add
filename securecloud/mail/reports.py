"""Backup verification reports: one per customer with email reports on, and a summary
for the admins of every reseller node, over that node's whole subtree.

A client is verified when it finished a successful backup in the period and its last
backup did not fail. Silence is a failure: a client that did not report at all is
flagged like one whose backups fail. Disabled clients are listed, never flagged.

`send_reports()` is what `manage.py send_backup_reports` runs: it reads customers in
chunks (a few queries per chunk, whatever the number of customers), keeps at most one
report per customer and period and one summary per admin and period (the
EmailDelivery ledger), retries what failed in an earlier run of the same period, and
sends directly through the configured email backend, one message at a time so that a
failing recipient stops nobody else.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from clients.models import BackupReport, Client, silent_since_q
from hierarchy.models import Membership, Node
from hierarchy.validators import format_bytes
from securecloud import site
from securecloud.mail.emails import deliver, error_text, from_address, mark_failed
from securecloud.mail.models import EmailDelivery

DAILY = "daily"
WEEKLY = "weekly"
PERIODS = {DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}
PERIOD_LABELS = {DAILY: "Daily", WEEKLY: "Weekly"}
REPORT_KIND = {DAILY: EmailDelivery.Kind.REPORT_DAILY, WEEKLY: EmailDelivery.Kind.REPORT_WEEKLY}
SUMMARY_KIND = {DAILY: EmailDelivery.Kind.SUMMARY_DAILY, WEEKLY: EmailDelivery.Kind.SUMMARY_WEEKLY}
NEAR_QUOTA_PERCENT = 90
TRIAL_WARNING = timedelta(days=7)
CHUNK_SIZE = 200
SUMMARY_ROWS = 100  # rows per summary section; the rest is counted
# Connections refused in a row before a run gives up (each may wait for a timeout).
MAX_CONNECT_FAILURES = 3
# A delivery still "queued" after this long belongs to a run that died: send it again.
STALE_QUEUED = timedelta(hours=1)

ALL_VERIFIED = "All backups verified"


def period_of_kind(kind: str) -> str:
    return (
        WEEKLY
        if kind in (EmailDelivery.Kind.REPORT_WEEKLY, EmailDelivery.Kind.SUMMARY_WEEKLY)
        else DAILY
    )


def period_key(period: str, now: datetime) -> str:
    """The calendar day ("2026-11-28") or ISO week ("2026-W48") of `now`, server time."""
    day = timezone.localdate(now)
    if period == WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def flagged_q(start: datetime) -> Q:
    """Clients without a verified backup in the period (the query form of ClientLine)."""
    return silent_since_q(start) | (
        Q(last_backup_status=Client.BackupStatus.FAILED) & ~Q(status=Client.Status.DISABLED)
    )


def usage_percent(used: int, space: int | None) -> int | None:
    if not space:
        return None
    return int(used * 100 // space)


# --- The customer report --------------------------------------------------------------


# The most client lines one report lists; the rest are counted.
MAX_REPORT_LINES = 200


@dataclass
class ClientLine:
    client: Client
    flagged: bool
    state: str  # what the report says about the client
    backups: int = 0  # backups finished in the period
    successes: int = 0

    @property
    def used_label(self) -> str:
        return format_bytes(self.client.used_bytes)


def client_line(client: Client, start: datetime, counts: tuple[int, int] = (0, 0)) -> ClientLine:
    backups, successes = counts
    if client.status == Client.Status.DISABLED:
        return ClientLine(client, False, "Disabled", backups, successes)
    if client.last_backup_status == Client.BackupStatus.FAILED and client.last_backup_at:
        state = "Last backup failed"
    elif client.last_success_at is None:
        state = "Never backed up" if client.last_backup_at is None else "No successful backup yet"
    elif client.last_success_at < start:
        state = "No successful backup in the period"
    elif client.last_backup_status == Client.BackupStatus.WARNING:
        return ClientLine(client, False, "Verified (last backup had warnings)", backups, successes)
    else:
        return ClientLine(client, False, "Verified", backups, successes)
    return ClientLine(client, True, state, backups, successes)


@dataclass
class CustomerReport:
    customer: Node
    period: str
    start: datetime
    end: datetime
    lines: list[ClientLine]

    @property
    def reseller(self) -> Node | None:
        return self.customer.parent

    @property
    def period_label(self) -> str:
        return PERIOD_LABELS[self.period]

    @property
    def flagged(self) -> list[ClientLine]:
        return [line for line in self.lines if line.flagged]

    @property
    def shown_lines(self) -> list[ClientLine]:
        """The lines the email lists (flagged first): a customer with thousands of clients
        gets a readable email, and the console's preview a bounded page."""
        return self.lines[:MAX_REPORT_LINES]

    @property
    def hidden_count(self) -> int:
        return max(0, len(self.lines) - MAX_REPORT_LINES)

    @property
    def hidden_flagged_count(self) -> int:
        return sum(1 for line in self.lines[MAX_REPORT_LINES:] if line.flagged)

    @property
    def active_count(self) -> int:
        return sum(1 for line in self.lines if line.client.status != Client.Status.DISABLED)

    @property
    def all_verified(self) -> bool:
        return self.active_count > 0 and not self.flagged

    @property
    def headline(self) -> str:
        flagged = len(self.flagged)
        if flagged:
            noun = "client" if self.active_count == 1 else "clients"
            verb = "needs" if flagged == 1 else "need"
            return f"{flagged} of {self.active_count} {noun} {verb} attention"
        if self.active_count == 0:
            return "No backups to verify: no active clients"
        return ALL_VERIFIED

    @property
    def usage_percent(self) -> int | None:
        return usage_percent(self.customer.used_bytes, self.customer.usage_space_bytes)

    @property
    def over_quota(self) -> bool:
        return self.customer.over_quota

    @property
    def used_label(self) -> str:
        return format_bytes(self.customer.used_bytes)

    @property
    def space_label(self) -> str:
        return self.customer.usage_space_label

    @property
    def near_quota(self) -> bool:
        percent = self.usage_percent
        return percent is not None and percent >= NEAR_QUOTA_PERCENT and not self.over_quota

    @property
    def subject(self) -> str:
        return f"{self.period_label} backup report for {self.customer.name}: {self.headline}"


def _report_clients(customer_ids: list[int]):
    return (
        Client.objects.filter(customer_id__in=customer_ids)
        .only(
            "customer_id",
            "securecloud_id",
            "name",
            "plan",
            "trial_ends_at",
            "status",
            "used_bytes",
            "last_backup_at",
            "last_backup_status",
            "last_success_at",
        )
        .order_by("customer_id", "securecloud_id")
    )


def _backup_counts(customer_ids: list[int], start: datetime, end: datetime) -> dict:
    rows = (
        BackupReport.objects.filter(
            client__customer_id__in=customer_ids, finished_at__gte=start, finished_at__lt=end
        )
        .values("client_id")
        .annotate(total=Count("id"), ok=Count("id", filter=Q(status=Client.BackupStatus.SUCCESS)))
    )
    return {row["client_id"]: (row["total"], row["ok"]) for row in rows}


def _make_report(customer, clients, counts, period, start, end) -> CustomerReport:
    lines = [client_line(client, start, counts.get(client.pk, (0, 0))) for client in clients]
    lines.sort(key=lambda line: not line.flagged)  # flagged first, stable otherwise
    return CustomerReport(customer=customer, period=period, start=start, end=end, lines=lines)


def customer_report(customer: Node, period: str, now: datetime) -> CustomerReport:
    """One customer's report over the period that ends at `now` (three queries)."""
    start = now - PERIODS[period]
    clients = list(_report_clients([customer.pk]))
    counts = _backup_counts([customer.pk], start, now)
    return _make_report(customer, clients, counts, period, start, now)


def report_context(report: CustomerReport, *, site_url: str = "") -> dict:
    """`site_url`: the address of the request that asks for the report, if one does."""
    return {
        "report": report,
        "customer": report.customer,
        "reseller": report.reseller,
        "site_url": site_url or site.site_url(),
        "time_zone": settings.TIME_ZONE,
    }


def report_message(
    report: CustomerReport, recipient: str, *, site_url: str = ""
) -> EmailMultiAlternatives:
    context = report_context(report, site_url=site_url)
    reseller = report.reseller
    message = EmailMultiAlternatives(
        subject=report.subject,
        body=render_to_string("email/report.txt", context),
        from_email=from_address(reseller.name if reseller else ""),
        to=[recipient],
    )
    message.attach_alternative(render_to_string("email/report.html", context), "text/html")
    return message


# --- The reseller summary -------------------------------------------------------------


@dataclass
class ResellerSummary:
    reseller: Node
    period: str
    start: datetime
    end: datetime
    customer_count: int = 0
    client_count: int = 0
    flagged_client_count: int = 0
    failing: list[dict] = field(default_factory=list)  # customer, parent, flagged, total
    failing_count: int = 0
    quota: list[dict] = field(default_factory=list)  # customer, percent, over
    quota_count: int = 0
    trials: list[Client] = field(default_factory=list)
    trials_count: int = 0

    @property
    def period_label(self) -> str:
        return PERIOD_LABELS[self.period]

    @property
    def headline(self) -> str:
        if not (self.failing_count or self.quota_count or self.trials_count):
            if self.client_count == 0:
                return "No clients yet"
            return ALL_VERIFIED
        parts = []
        if self.failing_count:
            parts.append(f"{self.failing_count} with failing or silent clients")
        if self.quota_count:
            parts.append(f"{self.quota_count} near or over usage space")
        if self.trials_count:
            parts.append(f"{self.trials_count} trials ending within 7 days")
        return "Customers need attention: " + "; ".join(parts)

    @property
    def subject(self) -> str:
        return f"{self.period_label} backup summary for {self.reseller.name}: {self.headline}"


def reseller_summary(reseller: Node, period: str, now: datetime) -> ResellerSummary:
    """The summary over the reseller's whole subtree (a fixed number of queries)."""
    start = now - PERIODS[period]
    summary = ResellerSummary(reseller=reseller, period=period, start=start, end=now)
    customers = Node.objects.within(reseller).customers()
    clients = Client.objects.within(reseller)
    summary.customer_count = customers.count()
    totals = clients.exclude(status=Client.Status.DISABLED).aggregate(
        total=Count("id"), flagged=Count("id", filter=flagged_q(start))
    )
    summary.client_count, summary.flagged_client_count = totals["total"], totals["flagged"]

    failing = (
        clients.exclude(status=Client.Status.DISABLED)
        .values("customer_id")
        .annotate(total=Count("id"), flagged=Count("id", filter=flagged_q(start)))
        .filter(flagged__gt=0)
    )
    summary.failing_count = failing.count()
    rows = list(failing.order_by("-flagged", "customer_id")[:SUMMARY_ROWS])
    names = Node.objects.select_related("parent").in_bulk([row["customer_id"] for row in rows])
    summary.failing = [
        {"customer": names[row["customer_id"]], "flagged": row["flagged"], "total": row["total"]}
        for row in rows
    ]

    quota = (
        customers.filter(usage_space_bytes__isnull=False, usage_space_bytes__gt=0)
        .alias(used_scaled=F("used_bytes") * 100)
        .filter(used_scaled__gte=F("usage_space_bytes") * NEAR_QUOTA_PERCENT)
        .select_related("parent")
    )
    summary.quota_count = quota.count()
    summary.quota = [
        {
            "customer": customer,
            "percent": usage_percent(customer.used_bytes, customer.usage_space_bytes),
            "over": customer.over_quota,
            "used": format_bytes(customer.used_bytes),
            "space": customer.usage_space_label,
        }
        for customer in quota.order_by("-used_bytes", "pk")[:SUMMARY_ROWS]
    ]

    trials = clients.filter(
        plan=Client.Plan.TRIAL, trial_ends_at__gt=now, trial_ends_at__lte=now + TRIAL_WARNING
    ).exclude(status=Client.Status.DISABLED)
    summary.trials_count = trials.count()
    summary.trials = list(
        trials.select_related("customer").order_by("trial_ends_at", "pk")[:SUMMARY_ROWS]
    )
    return summary


def summary_message(summary: ResellerSummary, recipient: str) -> EmailMultiAlternatives:
    context = {
        "summary": summary,
        "reseller": summary.reseller,
        "site_url": site.site_url(),
        "time_zone": settings.TIME_ZONE,
    }
    message = EmailMultiAlternatives(
        subject=summary.subject,
        body=render_to_string("email/summary.txt", context),
        from_email=from_address(),
        to=[recipient],
    )
    message.attach_alternative(render_to_string("email/summary.html", context), "text/html")
    return message


# --- The run --------------------------------------------------------------------------


@dataclass
class RunResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # already sent this period (or being sent by another run)
    would_send: int = 0  # dry run


def _chunks(queryset, size: int = CHUNK_SIZE) -> Iterator[list]:
    """Keyset pagination by pk: every chunk is one short query, whatever the table size."""
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def _claim(existing: EmailDelivery | None, now: datetime, **create) -> EmailDelivery | None:
    """The delivery this run may send, or None when it is sent or being sent elsewhere.

    New: created (the unique constraint makes a concurrent run lose the race). Failed,
    or queued by a run that died: taken back by a conditional update.
    """
    if existing is None:
        try:
            with transaction.atomic():
                return EmailDelivery.objects.create(created_at=now, updated_at=now, **create)
        except IntegrityError:
            return None
    retryable = Q(status=EmailDelivery.Status.FAILED) | Q(
        status=EmailDelivery.Status.QUEUED, updated_at__lt=now - STALE_QUEUED
    )
    taken = EmailDelivery.objects.filter(retryable, pk=existing.pk).update(
        status=EmailDelivery.Status.QUEUED, updated_at=now
    )
    if not taken:
        return None
    existing.status = EmailDelivery.Status.QUEUED
    existing.updated_at = now
    return existing


def _sendable(existing: EmailDelivery | None, now: datetime) -> bool:
    if existing is None or existing.status == EmailDelivery.Status.FAILED:
        return True
    return (
        existing.status == EmailDelivery.Status.QUEUED and existing.updated_at < now - STALE_QUEUED
    )


class MailServerUnavailable(Exception):
    """The mail server refused several connections in a row: the run stopped."""


class _Sender:
    """One connection to the mail server for the run; a failure reopens it for the next."""

    def __init__(self, dry_run: bool, out: Callable[[str], None], result: RunResult):
        self.dry_run = dry_run
        self.out = out
        self.result = result
        self.connection = None if dry_run else get_connection()
        self.is_open = False
        self.open_failures = 0

    def _open(self, delivery: EmailDelivery) -> bool:
        """Connect if not connected; a failure fails `delivery`, and several in a row
        stop the run (what is left untouched goes out with the next run)."""
        if self.is_open:
            return True
        try:
            self.connection.open()  # type: ignore[union-attr]
        except Exception as exc:
            mark_failed(delivery, error_text(exc))
            self.open_failures += 1
            if self.open_failures >= MAX_CONNECT_FAILURES:
                self.result.failed += 1
                self.out(
                    f"FAILED {delivery.get_kind_display()} to {delivery.recipient}: "
                    f"{delivery.error}"
                )
                raise MailServerUnavailable(delivery.error) from exc
            return False
        self.is_open = True
        self.open_failures = 0
        return True

    def close(self) -> None:
        if self.connection is not None and self.is_open:
            try:
                self.connection.close()
            except Exception:  # the server may already have gone
                pass
        self.is_open = False

    def send(
        self, existing, now, describe: str, build: Callable[[], EmailMultiAlternatives], **create
    ) -> None:
        if not _sendable(existing, now):
            self.result.skipped += 1
            return
        retry = " (retry of a failed send)" if existing is not None else ""
        if self.dry_run:
            self.result.would_send += 1
            self.out(f"Would send {describe}{retry}")
            return
        delivery = _claim(existing, now, **create)
        if delivery is None:
            self.result.skipped += 1
            return
        try:
            message = build()
        except Exception as exc:  # the content: this message fails, the run goes on
            mark_failed(delivery, error_text(exc))
            sent = False
        else:
            if self._open(delivery):
                sent = deliver(delivery, message=message, connection=self.connection)
                if not sent:
                    self.close()  # the next message starts on a fresh connection
            else:
                sent = False
        if sent:
            self.result.sent += 1
            self.out(f"Sent {describe}{retry}")
        else:
            self.result.failed += 1
            self.out(f"FAILED {describe}: {delivery.error}")


def send_reports(
    period: str = DAILY,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    reseller: Node | None = None,
    customer: Node | None = None,
    out: Callable[[str], None] = print,
) -> RunResult:
    """Send this period's customer reports and reseller summaries that are not sent yet.

    `reseller` narrows the run to that reseller's subtree; `customer` to that one
    customer's report (no summaries).
    """
    now = now or timezone.now()
    start = now - PERIODS[period]
    key = period_key(period, now)
    report_kind, summary_kind = REPORT_KIND[period], SUMMARY_KIND[period]
    result = RunResult()
    sender = _Sender(dry_run, out, result)
    try:
        if customer is not None:
            customers = Node.objects.filter(pk=customer.pk)
        elif reseller is not None:
            customers = Node.objects.within(reseller)
        else:
            customers = Node.objects.all()
        customers = customers.customers().filter(email_reports=True).select_related("parent")
        for chunk in _chunks(customers):
            ids = [c.pk for c in chunk]
            clients_by_customer = defaultdict(list)
            for client in _report_clients(ids):
                clients_by_customer[client.customer_id].append(client)
            counts = _backup_counts(ids, start, now)
            existing = {
                d.customer_id: d
                for d in EmailDelivery.objects.filter(
                    customer_id__in=ids, kind=report_kind, period_key=key
                )
            }
            for node in chunk:
                if not node.contact_email:
                    out(f"Skipped {node.name}: no contact email")
                    continue
                report = _make_report(
                    node, clients_by_customer[node.pk], counts, period, start, now
                )
                sender.send(
                    existing.get(node.pk),
                    now,
                    f"{period} report to {node.contact_email} ({node.name}): {report.headline}",
                    lambda report=report, to=node.contact_email: report_message(report, to),  # type: ignore[misc]
                    customer=node,
                    kind=report_kind,
                    period_key=key,
                    recipient=node.contact_email,
                    subject=report.subject[:255],
                )
        if customer is None:
            _send_summaries(sender, reseller, period, now, key, summary_kind)
    finally:
        sender.close()
    return result


def _send_summaries(sender, scope, period, now, key, kind) -> None:
    memberships = Membership.objects.filter(user__is_active=True).exclude(user__email="")
    if scope is not None:
        memberships = memberships.filter(reseller__in=Node.objects.within(scope))
    admins = defaultdict(list)
    for membership in memberships.select_related("user", "reseller").order_by(
        "reseller_id", "user_id"
    ):
        admins[membership.reseller].append(membership.user.email)
    for node, emails in admins.items():
        summary = reseller_summary(node, period, now)
        existing = {
            d.recipient.lower(): d
            for d in EmailDelivery.objects.filter(reseller=node, kind=kind, period_key=key)
        }
        for email in dict.fromkeys(emails):  # an address once, in order
            sender.send(
                existing.get(email.lower()),
                now,
                f"{period} summary to {email} ({node.name}): {summary.headline}",
                lambda summary=summary, email=email: summary_message(summary, email),
                reseller=node,
                kind=kind,
                period_key=key,
                recipient=email,
                subject=summary.subject[:255],
            )
