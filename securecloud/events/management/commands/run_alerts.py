"""Run from cron every few minutes (or let Celery beat run `run_alerts_task`): report the
time-based events (trials ending and expired, backups missed) once per occurrence, drop
expired pending requests, send what the outbox still holds to the webhooks and the
retries that are due, email each admin one digest of the run's alerts, and keep the
backup reports' monthly partitions created ahead (PostgreSQL)."""

from django.core.management.base import BaseCommand

from securecloud.events.alert_run import run_alerts


class Command(BaseCommand):
    help = (
        "Report trials ending or expired and missed backups (once each), deliver the "
        "webhooks' events and due retries, and email each admin its alerts."
    )

    def handle(self, *args, **options):
        run = run_alerts()
        if run.partitions_busy:
            self.stderr.write(f"Backup report partitions not created: {run.partitions_busy}")
        if run.partitions_created:
            self.stdout.write(
                f"Backup report partitions created: {', '.join(run.partitions_created)}."
            )
        self.stdout.write(
            f"Trial events: {run.trial_events}. Missed backups: {run.missed_backups}. "
            f"Expired pending requests dropped: {run.expired_pending_requests}. Webhook "
            f"deliveries: {run.new_deliveries} new, {run.due_deliveries} due sent. Alert "
            f"emails: {run.alert_emails}."
        )
