"""Backup verification reports: one per customer with email reports on, and a summary
for the admins of every reseller node, over that node's whole subtree. What they say and
the messages that say it; `report_run` sends them.

A client is verified when it finished a successful backup in the period and its last
backup did not fail. Silence is a failure: a client that did not report at all is
flagged like one whose backups fail. Disabled clients are listed, never flagged.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, F, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from clients.models import BackupReport, Client, silent_since_q
from hierarchy.models import Node
from hierarchy.validators import format_bytes
from securecloud import site
from securecloud.branding.brands import Brand, brand_for
from securecloud.mail.delivery import from_address, sender_of
from securecloud.mail.models import EmailDelivery

DAILY = "daily"
WEEKLY = "weekly"
PERIODS = {DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}
PERIOD_LABELS = {DAILY: "Daily", WEEKLY: "Weekly"}
REPORT_KIND = {DAILY: EmailDelivery.Kind.REPORT_DAILY, WEEKLY: EmailDelivery.Kind.REPORT_WEEKLY}
SUMMARY_KIND = {DAILY: EmailDelivery.Kind.SUMMARY_DAILY, WEEKLY: EmailDelivery.Kind.SUMMARY_WEEKLY}
NEAR_QUOTA_PERCENT = 90
TRIAL_WARNING = timedelta(days=7)
SUMMARY_ROWS = 100  # rows per summary section; the rest is counted

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
        parent: Node | None = self.customer.parent
        return parent

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


def report_clients(customer_ids: list[int]) -> QuerySet[Client]:
    """The clients of these customers, with the fields a report reads."""
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


def backup_counts(
    customer_ids: list[int], start: datetime, end: datetime
) -> dict[int, tuple[int, int]]:
    """Backups finished in [start, end) and the successful ones, by client id."""
    rows = (
        BackupReport.objects.filter(
            client__customer_id__in=customer_ids, finished_at__gte=start, finished_at__lt=end
        )
        .values("client_id")
        .annotate(total=Count("id"), ok=Count("id", filter=Q(status=Client.BackupStatus.SUCCESS)))
    )
    return {row["client_id"]: (row["total"], row["ok"]) for row in rows}


def make_report(
    customer: Node,
    clients: list[Client],
    counts: dict[int, tuple[int, int]],
    period: str,
    start: datetime,
    end: datetime,
) -> CustomerReport:
    lines = [client_line(client, start, counts.get(client.pk, (0, 0))) for client in clients]
    lines.sort(key=lambda line: not line.flagged)  # flagged first, stable otherwise
    return CustomerReport(customer=customer, period=period, start=start, end=end, lines=lines)


def customer_report(customer: Node, period: str, now: datetime) -> CustomerReport:
    """One customer's report over the period that ends at `now` (three queries)."""
    start = now - PERIODS[period]
    clients = list(report_clients([customer.pk]))
    counts = backup_counts([customer.pk], start, now)
    return make_report(customer, clients, counts, period, start, now)


def report_context(
    report: CustomerReport, *, site_url: str = "", brand: Brand | None = None
) -> dict[str, Any]:
    """`site_url`: the address of the request that asks for the report, if one does;
    `brand`: the customer's brand when the caller has it already."""
    return {
        "report": report,
        "customer": report.customer,
        "reseller": report.reseller,
        "site_url": site_url or site.site_url(),
        "time_zone": settings.TIME_ZONE,
        "brand": brand or brand_for(report.customer),
    }


def report_message(
    report: CustomerReport, recipient: str, *, site_url: str = "", brand: Brand | None = None
) -> EmailMultiAlternatives:
    context = report_context(report, site_url=site_url, brand=brand)
    message = EmailMultiAlternatives(
        subject=report.subject,
        body=render_to_string("email/report.txt", context),
        from_email=sender_of(report.customer),
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
    failing: list[dict[str, Any]] = field(default_factory=list)  # customer, parent, flagged, total
    failing_count: int = 0
    quota: list[dict[str, Any]] = field(default_factory=list)  # customer, percent, over
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
    brand = brand_for(summary.reseller)
    context = {
        "summary": summary,
        "reseller": summary.reseller,
        "site_url": site.site_url(),
        "time_zone": settings.TIME_ZONE,
        "brand": brand,
    }
    message = EmailMultiAlternatives(
        subject=summary.subject,
        body=render_to_string("email/summary.txt", context),
        # To the reseller's own admins: the brand's sender name, or the console's.
        from_email=from_address(brand.sender_name),
        to=[recipient],
    )
    message.attach_alternative(render_to_string("email/summary.html", context), "text/html")
    return message
