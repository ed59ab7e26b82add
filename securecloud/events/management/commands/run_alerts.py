"""Run from cron every few minutes: report the time-based events (trials ending and
expired, backups missed) once per occurrence, drop expired pending requests, send what
the outbox still holds to the webhooks and the retries that are due, and email each
admin one digest of the run's alerts. It also keeps the backup reports' monthly
partitions created ahead (PostgreSQL; clients.report_partitions)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from clients import report_partitions
from clients.models import PENDING_REQUEST_LIFETIME, PendingRequest
from securecloud.events import alerts, dispatch, timed


class Command(BaseCommand):
    help = (
        "Report trials ending or expired and missed backups (once each), deliver the "
        "webhooks' events and due retries, and email each admin its alerts."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        trials = timed.trial_events(now)
        missed = timed.missed_backup_events(now)
        expired, _ = PendingRequest.objects.filter(
            last_attempt_at__lte=now - PENDING_REQUEST_LIFETIME
        ).delete()
        deliveries = dispatch.dispatch_pending()
        retried = dispatch.send_due()
        emails = alerts.send_email_alerts(now)
        try:
            created = report_partitions.ensure_partitions(now)
        except report_partitions.PartitionsBusy as exc:
            # Months are created well ahead: the next run tries again.
            self.stderr.write(f"Backup report partitions not created: {exc}")
            created = []
        if created:
            self.stdout.write(f"Backup report partitions created: {', '.join(created)}.")
        self.stdout.write(
            f"Trial events: {trials}. Missed backups: {missed}. Expired pending requests "
            f"dropped: {expired}. Webhook deliveries: {deliveries} new, {retried} due "
            f"sent. Alert emails: {emails}."
        )
