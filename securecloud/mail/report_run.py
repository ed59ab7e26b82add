"""The report run: what `manage.py send_backup_reports` runs (`send_reports()`).

It reads customers in chunks (a few queries per chunk, whatever the number of customers),
keeps at most one report per customer and period and one summary per admin and period
(the EmailDelivery ledger), retries what failed in an earlier run of the same period,
and sends directly through the configured email backend, one message at a time so that
a failing recipient stops nobody else.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from clients.models import Client
from hierarchy.models import Membership, Node
from securecloud.mail import reports
from securecloud.mail.delivery import deliver, error_text, mark_failed
from securecloud.mail.models import EmailDelivery

CHUNK_SIZE = 200
# Connections refused in a row before a run gives up (each may wait for a timeout).
MAX_CONNECT_FAILURES = 3
# A delivery still "queued" after this long belongs to a run that died: send it again.
STALE_QUEUED = timedelta(hours=1)


@dataclass
class RunResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # already sent this period (or being sent by another run)
    would_send: int = 0  # dry run


def _chunks(queryset: QuerySet[Node], size: int = CHUNK_SIZE) -> Iterator[list[Node]]:
    """Keyset pagination by pk: every chunk is one short query, whatever the table size."""
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def _claim(existing: EmailDelivery | None, now: datetime, **create: Any) -> EmailDelivery | None:
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

    def __init__(self, dry_run: bool, out: Callable[[str], None], result: RunResult) -> None:
        self.dry_run = dry_run
        self.out = out
        self.result = result
        self.connection: BaseEmailBackend | None = None if dry_run else get_connection()
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
        self,
        existing: EmailDelivery | None,
        now: datetime,
        describe: str,
        build: Callable[[], EmailMultiAlternatives],
        **create: Any,
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
                sent = deliver(delivery, message, self.connection)
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
    period: str = reports.DAILY,
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
    start = now - reports.PERIODS[period]
    key = reports.period_key(period, now)
    report_kind, summary_kind = reports.REPORT_KIND[period], reports.SUMMARY_KIND[period]
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
            clients_by_customer: defaultdict[int, list[Client]] = defaultdict(list)
            for client in reports.report_clients(ids):
                clients_by_customer[client.customer_id].append(client)
            counts = reports.backup_counts(ids, start, now)
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
                report = reports.make_report(
                    node, clients_by_customer[node.pk], counts, period, start, now
                )
                sender.send(
                    existing.get(node.pk),
                    now,
                    f"{period} report to {node.contact_email} ({node.name}): {report.headline}",
                    partial(reports.report_message, report, node.contact_email),
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


def _send_summaries(
    sender: _Sender, scope: Node | None, period: str, now: datetime, key: str, kind: str
) -> None:
    memberships = Membership.objects.filter(user__is_active=True).exclude(user__email="")
    if scope is not None:
        memberships = memberships.filter(reseller__in=Node.objects.within(scope))
    admins: defaultdict[Node, list[str]] = defaultdict(list)
    for membership in memberships.select_related("user", "reseller").order_by(
        "reseller_id", "user_id"
    ):
        admins[membership.reseller].append(membership.user.email)
    for node, emails in admins.items():
        summary = reports.reseller_summary(node, period, now)
        existing = {
            d.recipient.lower(): d
            for d in EmailDelivery.objects.filter(reseller=node, kind=kind, period_key=key)
        }
        for email in dict.fromkeys(emails):  # an address once, in order
            sender.send(
                existing.get(email.lower()),
                now,
                f"{period} summary to {email} ({node.name}): {summary.headline}",
                partial(reports.summary_message, summary, email),
                reseller=node,
                kind=kind,
                period_key=key,
                recipient=email,
                subject=summary.subject[:255],
            )
