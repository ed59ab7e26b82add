"""The run of `run_alerts`: report the time-based events (trials ending and expired,
backups missed) once per occurrence, drop expired pending requests, send what the outbox
still holds to the webhooks and the retries that are due, and email each admin one
digest of the run's alerts. It also keeps the backup reports' monthly partitions
created ahead (PostgreSQL; clients.report_partitions). The command runs it from cron;
the task from Celery beat (PERIODIC_TASKS), so a Celery deployment needs no cron."""

from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.utils import timezone
from django_tasks import task

from clients import report_partitions
from clients.models import PENDING_REQUEST_LIFETIME, PendingRequest
from securecloud.events import alerts, dispatch, timed


@dataclass(frozen=True)
class AlertRun:
    """What one run did, as counts."""

    trial_events: int
    missed_backups: int
    expired_pending_requests: int
    new_deliveries: int
    due_deliveries: int
    alert_emails: int
    partitions_created: list[str] = field(default_factory=list)
    # Why the partitions could not be created this time (a lock held too long), if so.
    partitions_busy: str = ""


def run_alerts(now: datetime | None = None) -> AlertRun:
    """One run; safe to repeat and to overlap (each event has its key, each delivery is
    claimed before it is attempted)."""
    now = now or timezone.now()
    trials = timed.trial_events(now)
    missed = timed.missed_backup_events(now)
    expired, _ = PendingRequest.objects.filter(
        last_attempt_at__lte=now - PENDING_REQUEST_LIFETIME
    ).delete()
    deliveries = dispatch.dispatch_pending()
    retried = dispatch.send_due()
    emails = alerts.send_email_alerts(now)
    busy = ""
    try:
        created = report_partitions.ensure_partitions(now)
    except report_partitions.PartitionsBusy as exc:
        # Months are created well ahead: the next run tries again.
        created, busy = [], str(exc)
    return AlertRun(
        trial_events=trials,
        missed_backups=missed,
        expired_pending_requests=expired,
        new_deliveries=deliveries,
        due_deliveries=retried,
        alert_emails=emails,
        partitions_created=created,
        partitions_busy=busy,
    )


@task()
def run_alerts_task() -> dict[str, object]:
    """`run_alerts` as a task (Celery beat runs it every few minutes); returns its counts."""
    return asdict(run_alerts())
