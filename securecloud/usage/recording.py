"""record_usage's write: one day's daily records, and what they change in its month.

A day is recorded from what the database holds once it has ended, so recording it
again (or late, to backfill) gives the same rows:

- the clients that existed by the day's end (created before it);
- storage: the size of each client's last backup report that finished before the day's
  end, whichever day that was (a day without a report carries the last known size); a
  client that has never reported counts what it was given on import, else 0;
- plan and status as they were at the day's end: the current ones, unless the audit log
  holds a change since (the earliest such change says what they were before it);
- a client deleted during the day counts on that day, with its customer and storage of
  the last recorded day before and the plan and status its deletion event recorded;
- a day's rows of clients deleted since are kept as they were.

At 100,000 clients the day's rows never pass through Python: they are written by
INSERT ... SELECT from the clients, and the month's per-client bits by one upsert (its
SQL runs on SQLite and PostgreSQL alike); Python handles the per-customer totals and the
few rows the audit log corrects.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q, Sum

from clients.models import BackupReport, Client
from hierarchy import audit
from hierarchy.actors import ActingUser
from hierarchy.fastinsert import fast_insert
from hierarchy.models import AuditEvent
from securecloud.usage import days
from securecloud.usage.days import day_bounds, days_in_month, month_of
from securecloud.usage.models import (
    ClientDay,
    ClientMonth,
    CustomerDay,
    CustomerMonth,
    RecordedDay,
)

# One record_usage at a time (PostgreSQL; SQLite's IMMEDIATE transactions already are).
_RECORD_LOCK = 0x75736167  # "usag"


class DayNotRecordable(ValueError):
    """A day that cannot be recorded (not over yet, or past the kept window)."""


@dataclass(frozen=True)
class Recorded:
    day: date
    clients: int
    customers: int


def earliest_recordable(on: date | None = None) -> date:
    """The oldest day record_usage may (re)record: the daily rows are kept this long."""
    return (on or days.today()) - timedelta(days=settings.USAGE_CLIENT_DAYS_KEPT - 1)


def check_recordable(day: date) -> None:
    now = days.today()
    if day >= now:
        raise DayNotRecordable(
            f"{day.isoformat()} has not ended yet (today is {now.isoformat()} in "
            f"{settings.TIME_ZONE}): a day is recorded once it is over."
        )
    oldest = earliest_recordable(now)
    if day < oldest:
        raise DayNotRecordable(
            f"{day.isoformat()} is older than the {settings.USAGE_CLIENT_DAYS_KEPT} days whose "
            f"daily records are kept (the oldest is {oldest.isoformat()})."
        )


def record_day(day: date, *, acting_user: ActingUser, origin: str) -> Recorded:
    """Record `day` for every client (replacing an earlier run's rows of that day)."""
    audit.check_origin(origin)
    check_recordable(day)
    start, end = day_bounds(day)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_RECORD_LOCK])
                # A recorded day can always be recorded again: its commit need not wait
                # for the disk (about 2 s of WAL at 100,000 clients).
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        _write_client_days(day, end)
        _undo_later_changes(day, end)
        _add_clients_deleted(day, start, end)
        if connection.vendor == "postgresql":
            # Fresh statistics before the joins below: planned on a table believed
            # empty (its first nights, before autovacuum has seen it), the month's
            # anti-join runs for minutes instead of a second.
            _execute(f"ANALYZE {_table(ClientDay)}, {_table(ClientMonth)}", [])
        clients = ClientDay.objects.filter(day=day).count()
        customers = _write_customer_days(day)
        RecordedDay.objects.update_or_create(day=day, defaults={"clients": clients})
        _write_months(day)
        _purge()
        audit.record(
            "usage.recorded",
            None,
            acting_user=acting_user,
            origin=origin,
            object_type="usage",
            changes={"day": [None, day.isoformat()], "clients": [None, clients]},
        )
    return Recorded(day=day, clients=clients, customers=customers)


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _execute(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _write_client_days(day: date, end: datetime) -> None:
    """The day's rows of every client that exists (those of clients deleted since stay)."""
    ops = connection.ops
    day_value, end_value = ops.adapt_datefield_value(day), ops.adapt_datetimefield_value(end)
    clients, reports, client_days = _table(Client), _table(BackupReport), _table(ClientDay)
    _execute(
        f"DELETE FROM {client_days} WHERE day = %s AND client_id IN (SELECT id FROM {clients})",
        [day_value],
    )
    _execute(
        f"""
        INSERT INTO {client_days}
            (day, client_id, client_code, customer_id, used_bytes, plan, status)
        SELECT %s, c.id, c.code, c.customer_id,
               COALESCE(
                   (SELECT r.used_bytes FROM {reports} r
                    WHERE r.client_id = c.id AND r.finished_at < %s
                    ORDER BY r.finished_at DESC, r.id DESC LIMIT 1),
                   -- no report by the day's end: an imported size if it never reported,
                   -- the size its last backup left if that finished before the day's end
                   -- (its reports pruned since: prune_backup_reports), else none yet
                   CASE WHEN c.last_backup_at IS NULL OR c.last_backup_at < %s
                        THEN c.used_bytes ELSE 0 END
               ),
               c.plan, c.status
        FROM {clients} c
        WHERE c.created_at < %s
        """,
        [day_value, end_value, end_value, end_value],
    )


def _undo_later_changes(day: date, end: datetime) -> None:
    """Plan and status as they were at `end`: the earliest change since says the before."""
    events = (
        AuditEvent.objects.filter(object_type="client", at__gte=end)
        .filter(Q(changes__has_key="plan") | Q(changes__has_key="status"))
        .order_by("at", "pk")
        .values_list("object_code", "changes")
    )
    before: dict[UUID, dict[str, str]] = {}
    for code, changes in events.iterator(chunk_size=10_000):
        if code is None:
            continue
        values = before.setdefault(code, {})
        for field in ("plan", "status"):
            if field in values or not isinstance(changes, dict) or field not in changes:
                continue
            # The first change since settles it (None: it had no value to go back to).
            values[field] = _before(changes, field) or ""
    if not before:
        return
    ids = dict(Client.objects.filter(code__in=before).values_list("code", "pk"))
    by_values: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for code, values in before.items():
        known = {field: value for field, value in values.items() if value}
        if code in ids and known:
            by_values.setdefault(tuple(sorted(known.items())), []).append(ids[code])
    for pairs, client_ids in by_values.items():
        ClientDay.objects.filter(day=day, client_id__in=client_ids).update(**dict(pairs))


def _add_clients_deleted(day: date, start: datetime, end: datetime) -> None:
    """Clients deleted during the day count on it: their customer and storage of the last
    recorded day before, and the plan and status their deletion recorded."""
    deleted = {
        code: changes
        for code, changes in AuditEvent.objects.filter(
            object_type="client", action="client.deleted", at__gte=start, at__lt=end
        ).values_list("object_code", "changes")
        if code is not None
    }
    if not deleted:
        return
    present = set(
        ClientDay.objects.filter(day=day, client_code__in=deleted).values_list(
            "client_code", flat=True
        )
    )
    missing = [code for code in deleted if code not in present]
    previous = (
        RecordedDay.objects.filter(day__lt=day).aggregate(last=Max("day"))["last"]
        if missing
        else None
    )
    if previous is None:
        return  # never recorded: nothing is known of their storage or customer
    ClientDay.objects.bulk_create(
        ClientDay(
            day=day,
            client_id=last.client_id,
            client_code=last.client_code,
            customer_id=last.customer_id,
            used_bytes=last.used_bytes,
            plan=_before(deleted[last.client_code], "plan") or last.plan,
            status=_before(deleted[last.client_code], "status") or last.status,
        )
        for last in ClientDay.objects.filter(day=previous, client_code__in=missing)
    )


def _before(changes: Any, field: str) -> str | None:
    change = changes.get(field) if isinstance(changes, dict) else None
    if isinstance(change, list) and change and isinstance(change[0], str) and change[0]:
        return change[0]
    return None


def _write_customer_days(day: date) -> int:
    totals = list(
        ClientDay.objects.filter(day=day)
        .values("customer_id")
        .annotate(
            used=Sum("used_bytes"),
            clients=Count("pk"),
            paid=Count("pk", filter=Q(plan=Client.Plan.PAID)),
        )
        .values_list("customer_id", "used", "clients", "paid")
    )
    CustomerDay.objects.filter(day=day).delete()
    fast_insert(
        CustomerDay,
        ["customer", "used_bytes", "clients", "paid_clients"],
        totals,
        constants={"day": day},
    )
    return len(totals)


def _write_months(day: date) -> None:
    """Set the day's bit in each client's month (clearing it first: a day recorded again
    sets the same bits), then the month's customer figures."""
    month = month_of(day)
    bit = 1 << (day.day - 1)
    ops = connection.ops
    month_value, day_value = ops.adapt_datefield_value(month), ops.adapt_datefield_value(day)
    client_months, client_days = _table(ClientMonth), _table(ClientDay)
    _execute(
        f"""
        UPDATE {client_months}
        SET days = days & ~%s, paid_days = paid_days & ~%s, trial_days = trial_days & ~%s,
            day_count = day_count - 1
        WHERE month = %s AND (days & %s) <> 0
        """,
        [bit, bit, bit, month_value, bit],
    )
    # The clients already in the month (an UPDATE ... FROM: on PostgreSQL an upsert that
    # conflicts on every row costs several times as much), then the new ones.
    _execute(
        f"""
        UPDATE {client_months} AS m
        SET days = m.days | %s,
            paid_days = m.paid_days | (CASE WHEN d.plan = %s THEN %s ELSE 0 END),
            trial_days = m.trial_days | (CASE WHEN d.plan = %s THEN %s ELSE 0 END),
            day_count = m.day_count + 1
        FROM {client_days} AS d
        WHERE d.day = %s AND m.month = %s
          AND m.client_id = d.client_id AND m.customer_id = d.customer_id
        """,
        [bit, Client.Plan.PAID, bit, Client.Plan.TRIAL, bit, day_value, month_value],
    )
    _execute(
        f"""
        INSERT INTO {client_months}
            (month, client_id, customer_id, days, paid_days, trial_days, day_count)
        SELECT %s, d.client_id, d.customer_id, %s,
               CASE WHEN d.plan = %s THEN %s ELSE 0 END,
               CASE WHEN d.plan = %s THEN %s ELSE 0 END,
               1
        FROM {client_days} AS d
        WHERE d.day = %s AND NOT EXISTS (
            SELECT 1 FROM {client_months} AS m
            WHERE m.month = %s AND m.client_id = d.client_id AND m.customer_id = d.customer_id
        )
        """,
        [
            month_value,
            bit,
            Client.Plan.PAID,
            bit,
            Client.Plan.TRIAL,
            bit,
            day_value,
            month_value,
        ],  # fmt: skip
    )
    _execute(f"DELETE FROM {client_months} WHERE month = %s AND days = 0", [month_value])

    next_month = month + timedelta(days=days_in_month(month))
    figures: dict[int, list[int]] = {}
    for customer, paid, trial, client_days_count in (
        ClientMonth.objects.filter(month=month)
        .values("customer_id")
        .annotate(
            paid=Count("pk", filter=~Q(paid_days=0)),
            trial=Count("pk", filter=Q(paid_days=0) & ~Q(trial_days=0)),
            client_days=Sum("day_count"),
        )
        .values_list("customer_id", "paid", "trial", "client_days")
    ):
        figures[customer] = [0, 0, paid, trial, client_days_count or 0]
    for customer, total, peak in (
        CustomerDay.objects.filter(day__gte=month, day__lt=next_month)
        .values("customer_id")
        .annotate(total=Sum("used_bytes"), peak=Max("used_bytes"))
        .values_list("customer_id", "total", "peak")
    ):
        figure = figures.setdefault(customer, [0, 0, 0, 0, 0])
        figure[0], figure[1] = int(total or 0), int(peak or 0)
    last = RecordedDay.objects.filter(day__gte=month, day__lt=next_month).aggregate(
        last=Max("day")
    )["last"]
    CustomerMonth.objects.filter(month=month).delete()
    fast_insert(
        CustomerMonth,
        ["customer", "byte_days", "peak_bytes", "paid_clients", "trial_clients", "client_days"],
        ((customer, *figure) for customer, figure in figures.items()),
        constants={"month": month, "last_day": last.day if last else 0},
    )


def _purge() -> None:
    """Drop the daily rows past the kept window (the customer totals stay)."""
    oldest = earliest_recordable()
    ClientDay.objects.filter(day__lt=oldest).delete()
    ClientMonth.objects.filter(month__lt=month_of(oldest)).delete()
