"""Usage tests run a calendar of their own: `cron` records a day as the nightly run would,
the morning after it, and `at(moment)` files the audit event just written at that moment
(the services stamp events with the real clock)."""

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from clients.models import BackupReport, Client
from hierarchy.models import AuditEvent
from securecloud.usage import days


class Calendar:
    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.set_today(date(2026, 12, 1))

    def set_today(self, day: date) -> None:
        self.today = day
        self.monkeypatch.setattr(days, "today", lambda: self.today)

    def record(self, day: date) -> str:
        """record_usage --date day, run the morning after (the calendar only moves on: a
        day before today is a backfill)."""
        if self.today <= day:
            self.set_today(day + timedelta(days=1))
        out = StringIO()
        call_command("record_usage", "--date", day.isoformat(), stdout=out)
        return out.getvalue()


@pytest.fixture
def calendar(monkeypatch):
    return Calendar(monkeypatch)


def local(year, month, day, hour=12, minute=0) -> datetime:
    """A moment in TIME_ZONE."""
    return datetime(year, month, day, hour, minute, tzinfo=timezone.get_default_timezone())


def at(moment: datetime) -> None:
    """File the latest audit event at `moment`."""
    event = AuditEvent.objects.order_by("-pk").first()
    AuditEvent.objects.filter(pk=event.pk).update(at=moment)


def created(client: Client, moment: datetime) -> Client:
    Client.objects.filter(pk=client.pk).update(created_at=moment)
    client.refresh_from_db()
    return client


def report(client: Client, moment: datetime, used_bytes: int) -> None:
    """A backup report that finished at `moment`, as the agent API stores it."""
    BackupReport.objects.create(
        client=client,
        started_at=moment - timedelta(minutes=30),
        finished_at=moment,
        status=Client.BackupStatus.SUCCESS,
        used_bytes=used_bytes,
    )
    Client.objects.filter(pk=client.pk).update(
        used_bytes=used_bytes, last_backup_at=moment, last_success_at=moment
    )
