"""Backup reports cannot move a client through time: times before the client existed,
or more than a few minutes ahead of the server's clock, are refused with a 400 that says
why; a report older than the last backup is kept in the history but moves nothing back.
Both hold on the hot path's own SQL (one statement on PostgreSQL, steps on SQLite)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from clients.models import BackupReport
from tests.agent.conftest import BACKUPS

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(agent, client_a1):
    return agent.token("a1@acme.example", "client-pass-1")


def at(delta: timedelta) -> datetime:
    return timezone.now().replace(microsecond=0) + delta


def report(agent, token, finished: datetime, *, started: datetime | None = None, **fields):
    started = started or finished - timedelta(seconds=30)
    return agent.report(
        token, started_at=started.isoformat(), finished_at=finished.isoformat(), **fields
    )


def test_a_success_in_the_year_one_is_refused_and_moves_nothing(agent, token, client_a1):
    assert report(agent, token, at(-timedelta(minutes=1)), status="success").status_code == 201
    client_a1.refresh_from_db()
    last_success = client_a1.last_success_at
    response = agent.report(
        token,
        started_at="0001-01-01T00:00:00+00:00",
        finished_at="0001-01-01T00:30:00+00:00",
        status="success",
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert fields["finished_at"].startswith("This time is before the client was created")
    assert fields["started_at"].startswith("This time is before the client was created")
    client_a1.refresh_from_db()
    assert client_a1.last_success_at == last_success
    assert BackupReport.objects.count() == 1


def test_times_before_the_client_existed_are_refused(agent, token, client_a1):
    before = client_a1.created_at - timedelta(minutes=6)
    response = report(agent, token, before)
    assert response.status_code == 400
    assert "before the client was created" in response.json()["fields"]["finished_at"]
    # A clock a little behind the server's is no reason to refuse a report.
    skewed = client_a1.created_at - timedelta(minutes=4)
    assert report(agent, token, skewed, started=skewed).status_code == 201


def test_a_report_an_hour_ahead_is_refused_a_few_minutes_is_clock_skew(agent, token):
    response = report(agent, token, at(timedelta(hours=1)))
    assert response.status_code == 400
    assert response.json()["fields"]["finished_at"] == (
        "This time is more than 5 minutes ahead of the server's clock; check the machine's clock."
    )
    response = report(agent, token, at(timedelta(hours=23)))
    assert response.status_code == 400
    assert report(agent, token, at(timedelta(minutes=4))).status_code == 201


def test_last_backup_and_last_success_only_move_forward(agent, token, client_a1, customer_a1):
    newest = at(-timedelta(minutes=2))
    assert report(agent, token, newest, status="failed", used_bytes=7000).status_code == 201
    # Sent late: an older success, and an even older failure.
    older = newest - timedelta(minutes=1)
    response = report(agent, token, older, status="success", used_bytes=5000)
    assert response.status_code == 201
    assert response.json()["used_bytes"] == 7000  # the size after the newest backup
    oldest = newest - timedelta(minutes=2)
    assert report(agent, token, oldest, status="failed", used_bytes=1000).status_code == 201

    client_a1.refresh_from_db()
    customer_a1.refresh_from_db()
    assert client_a1.last_backup_at == newest
    assert client_a1.last_backup_status == "failed"
    assert client_a1.last_success_at == older  # moved forward from never
    assert client_a1.used_bytes == 7000
    assert customer_a1.used_bytes == 7000
    # Every report is in the history all the same.
    assert BackupReport.objects.filter(client=client_a1).count() == 3

    # An even older success does not move the last success back.
    report(agent, token, oldest, status="success", used_bytes=1000)
    client_a1.refresh_from_db()
    assert client_a1.last_success_at == older
    # A newer one moves everything forward.
    latest = newest + timedelta(seconds=30)
    assert report(agent, token, latest, status="success", used_bytes=9000).status_code == 201
    client_a1.refresh_from_db()
    customer_a1.refresh_from_db()
    assert (client_a1.last_backup_at, client_a1.last_success_at) == (latest, latest)
    assert (client_a1.last_backup_status, client_a1.used_bytes) == ("success", 9000)
    assert customer_a1.used_bytes == 9000


def test_the_same_without_prepared_statements(agent, token, client_a1, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    newest = at(-timedelta(minutes=1))
    report(agent, token, newest, status="success", used_bytes=2000)
    report(agent, token, newest - timedelta(minutes=1), status="failed", used_bytes=1)
    client_a1.refresh_from_db()
    assert (client_a1.last_backup_at, client_a1.last_backup_status) == (newest, "success")
    assert (client_a1.last_success_at, client_a1.used_bytes) == (newest, 2000)


def test_offsets_are_compared_in_utc(agent, token, client_a1):
    newest = at(-timedelta(minutes=1))
    report(agent, token, newest, status="success")
    # The same instant minus a second, written at +14:00: older, so it moves nothing.
    older = (newest - timedelta(seconds=1)).astimezone(timezone.get_fixed_timezone(14 * 60))
    assert (
        agent.post(
            BACKUPS,
            {
                "started_at": older.isoformat(),
                "finished_at": older.isoformat(),
                "status": "failed",
                "used_bytes": 5,
            },
            token=token,
        ).status_code
        == 201
    )
    client_a1.refresh_from_db()
    assert client_a1.last_backup_at == newest.astimezone(UTC)
    assert client_a1.last_backup_status == "success"
