"""The backup reports' monthly partitions and their retention.

On PostgreSQL the report table is partitioned by month of finished_at (migration 0009,
which says why finished_at): one partition per calendar month in UTC, named
clients_backupreport_pYYYY_MM, and a DEFAULT partition for any time without one, so an
insert never fails for lack of a month. Here:

- `ensure_partitions()` keeps the current month and the next MONTHS_AHEAD months
  partitioned (run_alerts, every few minutes, and the prune call it; one catalog read
  when nothing is missing). A month missing since the newest partition (nothing ran for
  a while) is created too. PostgreSQL refuses to attach a month while the DEFAULT
  partition holds rows of it, so those rows move into the new partition first, in the
  same transaction, with inserts into the DEFAULT partition held off meanwhile.
- `prune_reports()` deletes the reports of every month that ended more than N months
  ago: a whole partition at a time on PostgreSQL (a DROP TABLE: no row deletes, no
  vacuum debt), then row by row in batches what is left before the cutoff (the DEFAULT
  partition's old rows; on SQLite, whose table is plain, every old row). The month that
  is only partly older than N months is kept whole: the cutoff is the start of the month
  N months before the current one, so N = 12 keeps a year back and the current month,
  and both databases delete the same reports.

Locks: creating a partition holds writes to the clients (the foreign key's lock) and
inserts into the DEFAULT partition until its commit, a few milliseconds when no rows
move (the usual case: months are created three ahead), and dropping one locks the
report table for an instant. Each waits at most LOCK_TIMEOUT for a lock, so a long
query never leaves the agents' writes queued behind it for long; PartitionsBusy says
to try again.
"""

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from clients.models import BackupReport, Client
from hierarchy import audit
from hierarchy.actors import ActingUser

TABLE = BackupReport._meta.db_table
CLIENT_TABLE = Client._meta.db_table
DEFAULT_PARTITION = f"{TABLE}_default"
MONTHLY_PARTITION = re.compile(rf"^{TABLE}_p(\d{{4}})_(\d{{2}})$")
# The current month and the next three: a month's partition exists well before its first
# report, even when the cron jobs stop for a while.
MONTHS_AHEAD = 3
# The longest a partition change waits for a lock (blocking the agents' writes behind it).
LOCK_TIMEOUT = "2s"
# PostgreSQL's "lock_not_available", which lock_timeout raises.
LOCK_NOT_AVAILABLE = "55P03"
# Rows deleted per statement (and per transaction) where no partition can be dropped.
DELETE_BATCH = 10_000
# A hundred years: more is a typo.
MOST_MONTHS = 1200


class PartitionsBusy(Exception):
    """A partition could not be changed: a lock was not free within LOCK_TIMEOUT."""


class PruneRefused(ValueError):
    """The number of months would delete what must be kept, or is not a number of months."""


@dataclass(frozen=True)
class Pruned:
    # Reports that finished before this (the start of a month, UTC) were deleted.
    cutoff: datetime
    # The monthly partitions dropped, oldest first, and the partitions created ahead.
    dropped: list[str]
    created: list[str]
    # Reports deleted row by row: the DEFAULT partition's (PostgreSQL) or all (SQLite).
    deleted_rows: int


def month_of(moment: datetime) -> date:
    """The first day of `moment`'s month in UTC."""
    return moment.astimezone(UTC).date().replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def partition_name(month: date) -> str:
    return f"{TABLE}_p{month.year:04d}_{month.month:02d}"


def is_partitioned() -> bool:
    """True on PostgreSQL once migration 0009 has partitioned the table."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE]
        )
        return cursor.fetchone() is not None


def partitions() -> list[str]:
    """The names of the report table's partitions (PostgreSQL), the DEFAULT one included."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
            [TABLE],
        )
        return [name for (name,) in cursor.fetchall()]


def monthly_partitions() -> dict[date, str]:
    """The monthly partitions by their month (partitions named otherwise are not ours)."""
    months = {}
    for name in partitions():
        match = MONTHLY_PARTITION.match(name)
        if match:
            months[date(int(match[1]), int(match[2]), 1)] = name
    return months


def months_to_have(current: date, existing: dict[date, str]) -> list[date]:
    """The current month and MONTHS_AHEAD ahead, from the month after the newest
    partition if that is older (months nothing created while no job ran)."""
    first = current
    newest = max(existing, default=None)
    if newest is not None and newest < current:
        first = add_months(newest, 1)
    last = add_months(current, MONTHS_AHEAD)
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def ensure_partitions(now: datetime | None = None) -> list[str]:
    """Create the monthly partitions missing for the current month and the months
    ahead; the names created (none on SQLite). PartitionsBusy if a lock was not free."""
    if not is_partitioned():
        return []
    current = month_of(now or timezone.now())
    existing = monthly_partitions()
    if all(month in existing for month in months_to_have(current, existing)):
        return []
    created = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            # Attaching a partition clones the foreign key to the clients, which takes this
            # lock on their table (writes to clients wait until the commit). Taken first,
            # in the agents' backup write's order (the client, then the report), so that
            # a write routed to the DEFAULT partition meanwhile cannot deadlock with it.
            cursor.execute(f"LOCK TABLE {CLIENT_TABLE} IN SHARE ROW EXCLUSIVE MODE")
            # Two runs at once create each month once: this lock conflicts with itself
            # (not with reads or the agents' inserts), and the list is read again under it.
            cursor.execute(f"LOCK TABLE {TABLE} IN SHARE UPDATE EXCLUSIVE MODE")
            if DEFAULT_PARTITION in partitions():
                # No report may land in the DEFAULT partition between the move of a
                # month's rows out of it and that month's partition being attached.
                cursor.execute(f"LOCK TABLE {DEFAULT_PARTITION} IN SHARE ROW EXCLUSIVE MODE")
            existing = monthly_partitions()
            for month in months_to_have(current, existing):
                if month not in existing:
                    _create_partition(cursor, month)
                    created.append(partition_name(month))
    except OperationalError as exc:
        _raise_if_busy(exc)
        raise
    return created


def _create_partition(cursor: CursorWrapper, month: date) -> None:
    name = partition_name(month)
    start, end = _literal(month_start(month)), _literal(month_start(add_months(month, 1)))
    # The same columns in the same order; ATTACH adds the table's indexes and keys.
    cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE})")
    if DEFAULT_PARTITION in partitions():
        columns = ", ".join(_columns(cursor))
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION}"
            f" WHERE finished_at >= {start} AND finished_at < {end} RETURNING {columns})"
            f" INSERT INTO {name} ({columns}) SELECT {columns} FROM moved"
        )
    cursor.execute(
        f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ({start}) TO ({end})"
    )


def _columns(cursor: CursorWrapper) -> list[str]:
    cursor.execute(
        "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = to_regclass(%s)"
        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [TABLE],
    )
    return [name for (name,) in cursor.fetchall()]


def _literal(moment: datetime) -> str:
    # Partition bounds are written into the DDL; built here from a datetime, never input.
    return f"'{moment:%Y-%m-%d %H:%M:%S}+00'"


def _raise_if_busy(exc: OperationalError) -> None:
    if getattr(exc.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE:
        raise PartitionsBusy(
            f"A lock on {TABLE} was not free within {LOCK_TIMEOUT} (a long query or "
            "transaction holds it); nothing of this step was changed. Try again."
        ) from exc


def prune_cutoff(older_than_months: int, now: datetime | None = None) -> datetime:
    """The start of the month `older_than_months` before the current one: reports that
    finished before it are the ones to delete. PruneRefused for a count that would
    delete the current month (0 or less) or is past MOST_MONTHS."""
    if older_than_months < 1:
        raise PruneRefused(
            f"{older_than_months} months would delete this month's reports: give 1 or more "
            "(1 keeps the current month and the whole month before it)."
        )
    if older_than_months > MOST_MONTHS:
        raise PruneRefused(f"{older_than_months} months is more than {MOST_MONTHS} (100 years).")
    current = month_of(now or timezone.now())
    return month_start(add_months(current, -older_than_months))


def prune_reports(
    older_than_months: int,
    *,
    now: datetime | None = None,
    acting_user: ActingUser,
    origin: str,
) -> Pruned:
    """Delete the reports of every month that ended more than `older_than_months` months
    ago (see the module's docstring), and create the partitions ahead. Audited."""
    cutoff = prune_cutoff(older_than_months, now)
    created = ensure_partitions(now)
    pruned = Pruned(cutoff=cutoff, dropped=[], created=created, deleted_rows=0)
    if is_partitioned():
        for month, name in sorted(monthly_partitions().items()):
            if month_start(add_months(month, 1)) <= cutoff:
                try:
                    _drop_partition(name)
                except PartitionsBusy as exc:
                    # What was dropped before stays dropped: say so, in the audit log too.
                    _record(pruned, acting_user=acting_user, origin=origin)
                    dropped = ", ".join(pruned.dropped) or "none"
                    raise PartitionsBusy(f"{exc} Dropped before that: {dropped}.") from exc
                pruned.dropped.append(name)
    pruned = dataclasses.replace(pruned, deleted_rows=_delete_rows_before(cutoff))
    _record(pruned, acting_user=acting_user, origin=origin)
    return pruned


def _record(pruned: Pruned, *, acting_user: ActingUser, origin: str) -> None:
    with transaction.atomic():
        audit.record(
            "backup_reports.pruned",
            None,
            acting_user=acting_user,
            origin=origin,
            object_type="backup reports",
            changes={
                "finished_before": [None, pruned.cutoff.isoformat()],
                "partitions_dropped": [None, ", ".join(pruned.dropped)],
                "reports_deleted": [None, pruned.deleted_rows],
            },
        )


def _drop_partition(name: str) -> None:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute(f"DROP TABLE {name}")
    except OperationalError as exc:
        _raise_if_busy(exc)
        raise


def _delete_rows_before(cutoff: datetime) -> int:
    """Delete reports that finished before `cutoff` in batches, each its own transaction,
    so that no delete holds its locks long or grows one huge transaction."""
    old = BackupReport.objects.filter(finished_at__lt=cutoff)
    deleted = 0
    while True:
        # finished_at on the outer delete too: on PostgreSQL it keeps the newer monthly
        # partitions out of the statement.
        batch = old.filter(pk__in=old.values("pk")[:DELETE_BATCH])
        with transaction.atomic():
            count, _ = batch.delete()
        deleted += count
        if count < DELETE_BATCH:
            return deleted
