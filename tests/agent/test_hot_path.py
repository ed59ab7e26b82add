"""The agent API's hot path (clients.agent_store): the token lookup and the backup write
as written-out SQL, prepared once per PostgreSQL session."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients import agent_store
from clients import services as client_services
from clients.models import BackupReport, Client
from hierarchy.models import GB, Node
from tests.agent.conftest import STATUS

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


@pytest.fixture
def token(agent, client_a1):
    return agent.token("a1@acme.example", "client-pass-1")


def statements(captured) -> list[str]:
    return [" ".join(query["sql"].split()[:2]) for query in captured]


def prepared_on_the_server() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


LOOKUP = agent_store.TOKEN_LOOKUP.prepared_name
WRITE = agent_store.BACKUP_WRITE.prepared_name


@on_postgresql
@pytest.mark.django_db
def test_postgresql_runs_the_hot_statements_prepared(agent, token):
    with CaptureQueriesContext(connection) as captured:
        assert agent.get(STATUS, token).status_code == 200
        assert agent.report(token, used_bytes=3 * GB).status_code == 201
    assert statements(captured) == [f"EXECUTE {LOOKUP}", f"EXECUTE {LOOKUP}", f"EXECUTE {WRITE}"]
    assert {LOOKUP, WRITE} <= prepared_on_the_server()


def test_a_statements_name_changes_with_its_text():
    # During a rolling deploy one server session never runs another version's statement.
    changed = dataclasses.replace(agent_store.TOKEN_LOOKUP, sql=agent_store.TOKEN_LOOKUP.sql + " ")
    assert changed.prepared_name != LOOKUP
    assert LOOKUP.startswith("agent_token_lookup_")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_new_database_session_prepares_them_again(agent, token):
    assert agent.get(STATUS, token).status_code == 200
    connection.close()  # as after CONN_MAX_AGE, a failed health check or a server restart
    with CaptureQueriesContext(connection) as captured:
        assert agent.get(STATUS, token).status_code == 200
        assert agent.report(token, used_bytes=GB).status_code == 201
    # Straight away, not after a failed EXECUTE and a retry.
    assert statements(captured) == [f"EXECUTE {LOOKUP}", f"EXECUTE {LOOKUP}", f"EXECUTE {WRITE}"]
    assert {LOOKUP, WRITE} <= prepared_on_the_server()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_session_handed_over_with_the_statements_prepared_uses_them(agent, token):
    # A pooler in session mode may give a new connection a server session that already
    # holds them: preparing again would fail ("already exists").
    assert agent.report(token, used_bytes=GB).status_code == 201
    connection.agent_prepared_statements = None  # what a new connection knows
    assert agent.get(STATUS, token).status_code == 200
    assert agent.report(token, used_bytes=2 * GB).status_code == 201


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lost", ["ALL", "one"])
def test_a_session_that_lost_prepared_statements_prepares_them_again(agent, token, lost):
    assert agent.report(token, used_bytes=GB).status_code == 201
    with connection.cursor() as cursor:
        # DISCARD ALL between two clients of a pooler; or one statement only.
        cursor.execute("DEALLOCATE ALL" if lost == "ALL" else f"DEALLOCATE {LOOKUP}")
    assert agent.get(STATUS, token).status_code == 200
    assert agent.report(token, used_bytes=2 * GB).status_code == 201
    assert agent.report(token, used_bytes=3 * GB).status_code == 201
    assert {LOOKUP, WRITE} <= prepared_on_the_server()


@pytest.mark.django_db
def test_without_prepared_statements_the_same_answers(agent, client_a1, token, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False  # behind PgBouncer in transaction mode
    with CaptureQueriesContext(connection) as captured:
        status = agent.get(STATUS, token)
        report = agent.report(token, used_bytes=2 * GB)
    assert status.status_code == 200
    assert status.json()["client"]["securecloud_id"] == "a1@acme.example"
    assert report.status_code == 201
    assert report.json()["customer_used_bytes"] == 2 * GB
    assert not [sql for sql in statements(captured) if sql.startswith("EXECUTE")]
    assert Client.objects.get(pk=client_a1.pk).used_bytes == 2 * GB


@pytest.mark.django_db
def test_the_lookup_builds_token_client_customer_and_reseller(token, client_a1, customer_a1):
    from clients.agent_tokens import token_digest

    found = agent_store.find_token(token_digest(token))
    assert found.client_id == client_a1.pk
    assert found.client.securecloud_id == "a1@acme.example"
    assert found.client.trial_ends_at == Client.objects.get(pk=client_a1.pk).trial_ends_at
    assert found.client.trial_ends_at.utcoffset() == timedelta(0)
    assert found.client.customer.name == "Acme"
    assert found.client.customer.usage_space_bytes == 50 * GB
    assert found.client.customer.parent.name == customer_a1.parent.name
    assert agent_store.find_token("0" * 64) is None


def write(client: Client, used_bytes: int, finished_at: datetime):
    return agent_store.write_backup(
        client.pk,
        started_at=finished_at - timedelta(minutes=5),
        finished_at=finished_at,
        status="success",
        used_bytes=used_bytes,
        files=None,
        message="",
        now=datetime.now(UTC),
    )


@pytest.mark.django_db
def test_a_client_disabled_after_its_token_was_read_is_not_written(client_a1, customer_a1):
    # The lookup and the write are two statements: a disable can land between them.
    client_services.disable_client(client_a1, acting_user=None, origin="test")
    assert write(client_a1, 5 * GB, datetime(2025, 1, 1, tzinfo=UTC)) is None
    assert not BackupReport.objects.exists()
    assert Node.objects.get(pk=customer_a1.pk).used_bytes == 0
    assert Client.objects.get(pk=client_a1.pk).last_backup_at is None


@pytest.mark.django_db
def test_written_times_compare_like_the_orms(client_a1):
    finished = datetime(2025, 3, 1, 1, 45, 10, tzinfo=UTC)
    written = write(client_a1, GB, finished)
    assert (written.customer_used_bytes, written.quota_bytes) == (GB, 50 * GB)
    assert written.over_quota is False
    # Stored as the ORM stores times, so its range lookups (health lists) hold.
    one_second = timedelta(seconds=1)
    clients = Client.objects.filter(pk=client_a1.pk)
    assert clients.filter(last_success_at=finished).exists()
    assert clients.filter(last_backup_at__lt=finished + one_second).exists()
    assert not clients.filter(last_success_at__gt=finished + one_second).exists()
    reports = BackupReport.objects.filter(client=client_a1)
    assert reports.filter(finished_at__range=(finished - one_second, finished)).count() == 1
