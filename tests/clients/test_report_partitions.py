"""Backup reports by month: on PostgreSQL the report table is partitioned by month of
finished_at (a DEFAULT partition for any month without one), and prune_backup_reports
drops whole months; on SQLite it deletes the old rows in batches. Both keep the current
month and the N whole months before it."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients import agent_store, report_partitions
from clients import services as client_services
from clients.models import BackupReport
from clients.report_partitions import (
    DEFAULT_PARTITION,
    add_months,
    month_of,
    month_start,
    partition_name,
)
from hierarchy.models import AuditEvent
from tests.agent.conftest import Agent

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="partitions are PostgreSQL's; SQLite keeps a plain table",
)
BEFORE_PARTITIONS = ("clients", "0008_client_customer_status_idx")


@pytest.fixture
def agent(client):
    return Agent(client)


def this_month() -> date:
    return month_of(timezone.now())


def in_month(month: date, days: int = 3) -> datetime:
    """A time inside `month` (its fourth day by default)."""
    return month_start(month) + timedelta(days=days, hours=10)


def report(client, finished: datetime, **fields) -> BackupReport:
    return BackupReport.objects.create(
        client=client,
        started_at=finished - timedelta(minutes=10),
        finished_at=finished,
        status="success",
        used_bytes=fields.pop("used_bytes", 1000),
        **fields,
    )


def partition_of(report_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM clients_backupreport WHERE id = %s", [report_id]
        )
        return cursor.fetchone()[0]


def prune(months) -> str:
    out = io.StringIO()
    call_command("prune_backup_reports", "--older-than-months", str(months), stdout=out)
    return out.getvalue()


# --- Both databases -----------------------------------------------------------------


@pytest.mark.django_db
def test_prune_deletes_the_months_older_than_n_and_keeps_the_rest(client_a1):
    current = this_month()
    kept = [
        report(client_a1, in_month(current, days=0)),
        # The whole month before stays with N = 1, its first day too.
        report(client_a1, month_start(add_months(current, -1))),
        report(client_a1, in_month(add_months(current, -1), days=20)),
    ]
    # The last instant of the month two months back: older than N = 1 whole months.
    report(client_a1, month_start(add_months(current, -1)) - timedelta(microseconds=1))
    report(client_a1, in_month(add_months(current, -14)))

    out = prune(1)

    assert sorted(BackupReport.objects.values_list("pk", flat=True)) == sorted(
        item.pk for item in kept
    )
    cutoff = month_start(add_months(current, -1))
    assert f"Reports finished before {cutoff:%Y-%m-%d} 00:00 UTC" in out
    assert "2 reports deleted row by row" in out


@pytest.mark.django_db
def test_prune_deletes_in_batches_until_none_is_left(client_a1, monkeypatch):
    monkeypatch.setattr(report_partitions, "DELETE_BATCH", 2)
    old = add_months(this_month(), -3)
    for day in range(5):
        report(client_a1, in_month(old, days=day))
    recent = report(client_a1, timezone.now())
    with CaptureQueriesContext(connection) as captured:
        assert "5 reports deleted row by row" in prune(2)
    deletes = [query for query in captured if query["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 2 + 2 + 1
    assert list(BackupReport.objects.values_list("pk", flat=True)) == [recent.pk]


@pytest.mark.django_db
def test_a_prune_is_in_the_audit_log(client_a1):
    report(client_a1, in_month(add_months(this_month(), -5)))
    prune(3)
    event = AuditEvent.objects.get(action="backup_reports.pruned")
    cutoff = month_start(add_months(this_month(), -3))
    assert event.origin == "command prune_backup_reports"
    assert event.changes["finished_before"] == [None, cutoff.isoformat()]
    assert event.changes["reports_deleted"] == [None, 1]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("0", "0 months would delete this month's reports: give 1 or more"),
        ("-2", "-2 months would delete this month's reports: give 1 or more"),
        ("twelve", "must be a whole number of months (1 or more), not 'twelve'"),
        ("1.5", "must be a whole number of months (1 or more), not '1.5'"),
        ("", "must be a whole number of months (1 or more), not ''"),
        ("5000", "5000 months is more than 1200 (100 years)"),
    ],
)
@pytest.mark.django_db
def test_a_bad_number_of_months_is_refused_and_deletes_nothing(client_a1, given, message):
    old = report(client_a1, in_month(add_months(this_month(), -30)))
    with pytest.raises(CommandError) as refused:
        prune(given)
    assert message in str(refused.value)
    assert "--older-than-months" in str(refused.value)
    assert BackupReport.objects.filter(pk=old.pk).exists()
    assert not AuditEvent.objects.filter(action="backup_reports.pruned").exists()


@pytest.mark.django_db
def test_the_number_of_months_is_required():
    with pytest.raises(CommandError, match="--older-than-months"):
        call_command("prune_backup_reports")


@pytest.mark.django_db
def test_deleting_a_client_deletes_its_reports(client_a1):
    report(client_a1, timezone.now())
    report(client_a1, in_month(add_months(this_month(), -40)))  # the DEFAULT partition's
    client_services.delete_client(client_a1, acting_user=None, origin="test")
    assert not BackupReport.objects.exists()


# --- PostgreSQL: the partitions -------------------------------------------------------


def partitions() -> list[str]:
    return report_partitions.partitions()


@on_postgresql
@pytest.mark.django_db
def test_the_report_table_is_partitioned_by_range_of_finished_at():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p"
            " JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]"
            " WHERE p.partrelid = 'clients_backupreport'::regclass"
        )
        assert cursor.fetchall() == [("r", "finished_at")]
        # The same indexes as before, the primary key with the partition key in it.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename = 'clients_backupreport' ORDER BY indexname"
        )
        indexes = dict(cursor.fetchall())
    assert "(id, finished_at)" in indexes.pop("clients_backupreport_pkey")
    assert "(client_id, finished_at)" in indexes.pop("report_client_finished_idx")
    assert [definition.split(" USING ")[1] for definition in indexes.values()] == [
        "btree (client_id)"  # the foreign key's own index, as Django made it
    ]
    # The current month and three ahead, and the DEFAULT partition.
    months = [partition_name(add_months(this_month(), ahead)) for ahead in range(4)]
    assert set(months) | {DEFAULT_PARTITION} <= set(partitions())


@on_postgresql
@pytest.mark.django_db
def test_a_report_lands_in_the_partition_of_the_month_it_finished_in(client_a1):
    now = report(client_a1, in_month(this_month(), days=0))
    ahead = report(client_a1, in_month(add_months(this_month(), 2)))
    # Times no monthly partition covers (an agent's clock years off) still insert.
    long_ago = report(client_a1, datetime(2001, 5, 1, tzinfo=UTC))
    far_ahead = report(client_a1, datetime(2090, 1, 1, tzinfo=UTC))
    assert partition_of(now.pk) == partition_name(this_month())
    assert partition_of(ahead.pk) == partition_name(add_months(this_month(), 2))
    assert partition_of(long_ago.pk) == partition_of(far_ahead.pk) == DEFAULT_PARTITION
    # And the ORM reads them back through the table, by client and finished_at.
    assert list(client_a1.backup_reports.order_by("finished_at")) == [
        long_ago,
        now,
        ahead,
        far_ahead,
    ]


def agent_report_finished_now(agent, token):
    """An agent's report through the API, finished in this month, and its stored row."""
    finished = max(
        timezone.now().replace(microsecond=0) - timedelta(seconds=5), month_start(this_month())
    )
    response = agent.report(
        token,
        started_at=(finished - timedelta(minutes=1)).isoformat(),
        finished_at=finished.isoformat(),
        used_bytes=2000,
    )
    assert response.status_code == 201, response.content
    return BackupReport.objects.latest("pk")


def ran(captured, start: str) -> bool:
    return any(query["sql"].lstrip().startswith(start) for query in captured)


@on_postgresql
@pytest.mark.django_db
def test_an_agents_report_goes_through_the_prepared_write_into_its_month(agent, client_a1):
    token = agent.token("a1@acme.example", "client-pass-1")
    with CaptureQueriesContext(connection) as captured:
        first = agent_report_finished_now(agent, token)
    assert ran(captured, f"EXECUTE {agent_store.BACKUP_WRITE.prepared_name}")
    assert partition_of(first.pk) == partition_name(this_month())
    # Partitions come and go under the prepared statement: PostgreSQL plans it again.
    far = add_months(this_month(), 12)
    assert report_partitions.ensure_partitions(month_start(far)) == [
        partition_name(add_months(far, ahead)) for ahead in range(-8, 4)
    ]
    with CaptureQueriesContext(connection) as captured:
        second = agent_report_finished_now(agent, token)
    assert ran(captured, f"EXECUTE {agent_store.BACKUP_WRITE.prepared_name}")
    assert partition_of(second.pk) == partition_name(this_month())
    assert second.pk > first.pk
    client_a1.refresh_from_db()
    assert (client_a1.used_bytes, client_a1.last_backup_at) == (2000, second.finished_at)


@on_postgresql
@pytest.mark.django_db
def test_an_agents_report_without_prepared_statements_goes_into_its_month(
    agent, client_a1, settings
):
    settings.DATABASE_PREPARED_STATEMENTS = False  # behind PgBouncer in transaction mode
    token = agent.token("a1@acme.example", "client-pass-1")
    with CaptureQueriesContext(connection) as captured:
        stored = agent_report_finished_now(agent, token)
    assert ran(captured, "WITH client AS")  # the write, sent as it is
    assert partition_of(stored.pk) == partition_name(this_month())


@on_postgresql
@pytest.mark.django_db
def test_a_new_months_partition_takes_its_reports_out_of_the_default_one(client_a1):
    month = add_months(this_month(), -30)
    assert partition_name(month) not in partitions()
    waiting = [report(client_a1, in_month(month, days=day)) for day in (0, 27)]
    other = report(client_a1, in_month(add_months(month, -1)))
    assert {partition_of(item.pk) for item in waiting} == {DEFAULT_PARTITION}

    # PostgreSQL refuses to attach a month whose rows sit in the DEFAULT partition.
    created = report_partitions.ensure_partitions(in_month(month))

    assert created == [partition_name(add_months(month, ahead)) for ahead in range(4)]
    assert {partition_of(item.pk) for item in waiting} == {partition_name(month)}
    assert partition_of(other.pk) == DEFAULT_PARTITION
    assert BackupReport.objects.count() == 3
    assert report_partitions.ensure_partitions(in_month(month)) == []  # nothing missing now


@on_postgresql
@pytest.mark.django_db
def test_months_missed_while_nothing_ran_are_created_from_the_newest_partition_on():
    newest = max(report_partitions.monthly_partitions())
    later = add_months(newest, 2)
    created = report_partitions.ensure_partitions(month_start(later))
    assert created == [partition_name(add_months(newest, step)) for step in range(1, 6)]


@on_postgresql
@pytest.mark.django_db
def test_run_alerts_creates_the_months_ahead(client_a1):
    last_ahead = partition_name(add_months(this_month(), 3))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {last_ahead}")
    out = io.StringIO()
    call_command("run_alerts", stdout=out)
    assert last_ahead in partitions()
    assert f"Backup report partitions created: {last_ahead}." in out.getvalue()


@on_postgresql
@pytest.mark.django_db
def test_prune_drops_whole_old_months_and_keeps_the_recent_ones_and_their_reports(client_a1):
    current = this_month()
    old = add_months(current, -20)
    report_partitions.ensure_partitions(in_month(old))  # months old .. old + 3
    old_months = [partition_name(add_months(old, step)) for step in range(4)]
    for name, step in zip(old_months, range(4), strict=True):
        assert partition_of(report(client_a1, in_month(add_months(old, step))).pk) == name
    kept = [
        report(client_a1, in_month(current)),
        report(client_a1, in_month(add_months(current, 1))),
        report(client_a1, in_month(add_months(current, -1))),  # the DEFAULT partition
    ]
    gone_by_row = report(client_a1, in_month(add_months(current, -2)))
    assert partition_of(gone_by_row.pk) == DEFAULT_PARTITION
    # As if written long ago: the foreign key's deferred checks done (PostgreSQL drops no
    # table with checks pending in the transaction, and the test is one transaction).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    out = prune(1)

    left = set(partitions())
    assert not left & set(old_months)
    ahead = [partition_name(add_months(current, step)) for step in range(4)]
    assert set(ahead) | {DEFAULT_PARTITION} <= left
    assert sorted(BackupReport.objects.values_list("pk", flat=True)) == sorted(
        item.pk for item in kept
    )
    for name in old_months:
        assert f"Dropped partition {name}." in out
    assert "1 reports deleted row by row" in out
    event = AuditEvent.objects.get(action="backup_reports.pruned")
    assert set(old_months) <= set(event.changes["partitions_dropped"][1].split(", "))


@on_postgresql
@pytest.mark.django_db
def test_prune_never_drops_the_month_that_is_only_partly_older_than_n(client_a1):
    # Run on the 20th: the month one month back is older than "1 month" for its first
    # 20 days only, so it stays whole, as do the current month and those ahead.
    current = this_month()
    now = in_month(current, days=19)
    report_partitions.ensure_partitions(in_month(add_months(current, -2)))
    pruned = report_partitions.prune_reports(1, now=now, acting_user=None, origin="test")
    assert pruned.cutoff == month_start(add_months(current, -1))
    assert partition_name(add_months(current, -2)) in pruned.dropped
    assert partition_name(add_months(current, -1)) in partitions()
    assert partition_name(current) in partitions()


class OtherSession:
    """A second database session that holds a table lock, as a long query would."""

    def __init__(self, lock: str):
        self.lock = lock

    def __enter__(self):
        self.session = connections.create_connection("default")
        self.session.set_autocommit(False)
        with self.session.cursor() as cursor:
            cursor.execute("SET lock_timeout = '10s'")  # a test that waits fails, never hangs
            cursor.execute(self.lock)
        return self

    def __exit__(self, *exc_info):
        self.session.rollback()
        self.session.close()


@on_postgresql
@pytest.mark.django_db
def test_a_prune_that_cannot_lock_the_table_says_so_and_what_it_dropped(client_a1):
    old = add_months(this_month(), -20)
    report_partitions.ensure_partitions(in_month(old))
    # A long read of the table (ONLY: this test's own transaction holds its partitions).
    with OtherSession("LOCK TABLE ONLY clients_backupreport IN ACCESS SHARE MODE"):
        with pytest.raises(CommandError) as refused:
            prune(6)
    message = str(refused.value)
    assert "A lock on clients_backupreport was not free within 2s" in message
    assert message.endswith("Try again. Dropped before that: none.")
    assert partition_name(old) in partitions()  # the next run drops it
    changes = AuditEvent.objects.get(action="backup_reports.pruned").changes
    assert changes["partitions_dropped"] == [None, ""]


@on_postgresql
@pytest.mark.django_db
def test_run_alerts_does_its_work_when_the_partitions_cannot_be_locked(client_a1):
    last_ahead = partition_name(add_months(this_month(), 3))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {last_ahead}")
    out, err = io.StringIO(), io.StringIO()
    with OtherSession("LOCK TABLE clients_client IN ROW EXCLUSIVE MODE"):  # a client's write
        call_command("run_alerts", stdout=out, stderr=err)
    assert "Backup report partitions not created: A lock on" in err.getvalue()
    assert "Alert emails: 0." in out.getvalue()
    assert last_ahead not in partitions()  # until the next run


# --- PostgreSQL: the migration ----------------------------------------------------------


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _relkind() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'clients_backupreport'::regclass")
        return cursor.fetchone()[0]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_existing_reports_into_their_months_and_back(agent, client_a1):
    token = agent.token("a1@acme.example", "client-pass-1")
    agent_report_finished_now(agent, token)  # the write is prepared in this session
    executor = _migrate([BEFORE_PARTITIONS])
    assert _relkind() == "r"  # a plain table again, with its reports
    assert BackupReport.objects.count() == 1
    # The prepared write plans itself again against the plain table.
    agent_report_finished_now(agent, token)

    month = add_months(this_month(), -40)
    old_report = executor.loader.project_state(BEFORE_PARTITIONS).apps.get_model(
        "clients", "BackupReport"
    )
    older = old_report.objects.create(
        client_id=client_a1.pk,
        started_at=in_month(month),
        finished_at=in_month(month),
        status="failed",
        used_bytes=5,
    )
    before = {item.pk: item.finished_at for item in BackupReport.objects.all()}

    _migrate(executor.loader.graph.leaf_nodes())

    assert _relkind() == "p"
    assert {item.pk: item.finished_at for item in BackupReport.objects.all()} == before
    assert partition_of(older.pk) == partition_name(month)
    assert {partition_name(this_month()), DEFAULT_PARTITION} <= set(partitions())
    newest = agent_report_finished_now(agent, token)
    assert newest.pk > max(before)  # the ids go on where they stopped
    assert partition_of(newest.pk) == partition_name(this_month())
    # Leave no partition of that old month for the tests that run after this one.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {partition_name(month)}")
