"""record_usage's write: one day's daily records, and what they change in its month.

A day is recorded from what the database holds once it has ended, so recording it
again (or late, to backfill) gives the same rows:

- the clients that existed by the day's end (created before it);
- storage: the size of each client's last backup report that finished before the day's
  end, whichever day that was (a day without a report carries the last known size); a
  client that has never reported counts what it was given on import, else 0;
- plan and status as they were at the day's end: the current ones, unless the audit log
  holds a change since (the earliest such change says what they were before it);
- a client deleted during the day counts on that day, with its last recorded storage and
  customer and the plan and status its deletion event recorded;
- a day's rows of clients deleted since are kept as they were.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, OuterRef, Q, Subquery, Sum

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


@dataclass
class DayRow:
    """One client's daily record."""

    client_id: int
    client_code: UUID
    customer_id: int
    used_bytes: int
    plan: str
    status: str


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
        rows = _rows_of_clients(end)
        kept = _rows_kept(day, set(rows))
        rows.update(kept)
        rows.update(_rows_of_clients_deleted(day, start, end, known=rows))
        _write_client_days(day, rows.values())
        customers = _write_customer_days(day, rows.values())
        RecordedDay.objects.update_or_create(day=day, defaults={"clients": len(rows)})
        _write_months(day, rows.values())
        _purge()
        audit.record(
            "usage.recorded",
            None,
            acting_user=acting_user,
            origin=origin,
            object_type="usage",
            changes={"day": [None, day.isoformat()], "clients": [None, len(rows)]},
        )
    return Recorded(day=day, clients=len(rows), customers=customers)


def _rows_of_clients(end: datetime) -> dict[int, DayRow]:
    last_report = (
        BackupReport.objects.filter(client=OuterRef("pk"), finished_at__lt=end)
        .order_by("-finished_at", "-pk")
        .values("used_bytes")[:1]
    )
    query = (
        Client.objects.filter(created_at__lt=end)
        .annotate(reported=Subquery(last_report))
        .values_list(
            "pk",
            "code",
            "customer_id",
            "plan",
            "status",
            "used_bytes",
            "last_backup_at",
            "reported",
        )
    )
    rows: dict[int, DayRow] = {}
    for pk, code, customer_id, plan, status, used, last_backup_at, reported in query.iterator(
        chunk_size=10_000
    ):
        if reported is None:
            # Never reported before the day's end: an imported size if it never reported.
            reported = used if last_backup_at is None else 0
        rows[pk] = DayRow(pk, code, customer_id, reported, plan, status)
    _undo_later_changes(rows, end)
    return rows


def _undo_later_changes(rows: dict[int, DayRow], end: datetime) -> None:
    """Plan and status as they were at `end`: the earliest change since says the before."""
    by_code = {row.client_code: row for row in rows.values()}
    events = (
        AuditEvent.objects.filter(object_type="client", at__gte=end)
        .filter(Q(changes__has_key="plan") | Q(changes__has_key="status"))
        .order_by("at", "pk")
        .values_list("object_code", "changes")
    )
    settled: set[tuple[UUID, str]] = set()
    for code, changes in events.iterator(chunk_size=10_000):
        row = by_code.get(code)
        if row is None:
            continue
        for field in ("plan", "status"):
            change = changes.get(field)
            if (code, field) in settled or not isinstance(change, list) or not change:
                continue
            settled.add((code, field))
            if isinstance(change[0], str) and change[0]:
                setattr(row, field, change[0])


def _rows_kept(day: date, existing_clients: set[int]) -> dict[int, DayRow]:
    """The day's recorded rows of clients that no longer exist: kept as they are."""
    query = (
        ClientDay.objects.filter(day=day)
        .exclude(client_id__in=Client.objects.values("pk"))
        .values_list("client_id", "client_code", "customer_id", "used_bytes", "plan", "status")
    )
    return {row[0]: DayRow(*row) for row in query.iterator() if row[0] not in existing_clients}


def _rows_of_clients_deleted(
    day: date, start: datetime, end: datetime, *, known: dict[int, DayRow]
) -> dict[int, DayRow]:
    """Clients deleted during the day count on it: their last recorded day's customer and
    storage, and the plan and status their deletion recorded."""
    known_codes = {row.client_code for row in known.values()}
    rows: dict[int, DayRow] = {}
    events = AuditEvent.objects.filter(
        object_type="client", action="client.deleted", at__gte=start, at__lt=end
    ).values_list("object_code", "changes")
    for code, changes in events:
        if code is None or code in known_codes:
            continue
        last = ClientDay.objects.filter(client_code=code, day__lt=day).order_by("-day").first()
        if last is None:
            continue  # never recorded: nothing is known of its storage or customer
        rows[last.client_id] = DayRow(
            last.client_id,
            code,
            last.customer_id,
            last.used_bytes,
            _before(changes, "plan") or last.plan,
            _before(changes, "status") or last.status,
        )
    return rows


def _before(changes: Any, field: str) -> str | None:
    change = changes.get(field) if isinstance(changes, dict) else None
    if isinstance(change, list) and change and isinstance(change[0], str):
        return change[0]
    return None


def _write_client_days(day: date, rows: Any) -> None:
    ClientDay.objects.filter(day=day).delete()
    fast_insert(
        ClientDay,
        ["client_id", "client_code", "customer", "used_bytes", "plan", "status"],
        ((r.client_id, r.client_code, r.customer_id, r.used_bytes, r.plan, r.status) for r in rows),
        constants={"day": day},
    )


def _write_customer_days(day: date, rows: Any) -> int:
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        total = totals[row.customer_id]
        total[0] += row.used_bytes
        total[1] += 1
        total[2] += row.plan == Client.Plan.PAID
    CustomerDay.objects.filter(day=day).delete()
    fast_insert(
        CustomerDay,
        ["customer", "used_bytes", "clients", "paid_clients"],
        ((customer, *total) for customer, total in totals.items()),
        constants={"day": day},
    )
    return len(totals)


def _write_months(day: date, rows: Any) -> None:
    """Set the day's bit in each client's month, then the month's customer figures."""
    month = month_of(day)
    bit = 1 << (day.day - 1)
    masks: dict[tuple[int, int], list[int]] = {}
    for client_id, customer_id, recorded, paid, trial in ClientMonth.objects.filter(
        month=month
    ).values_list("client_id", "customer_id", "days", "paid_days", "trial_days"):
        masks[(client_id, customer_id)] = [recorded & ~bit, paid & ~bit, trial & ~bit]
    for row in rows:
        mask = masks.setdefault((row.client_id, row.customer_id), [0, 0, 0])
        mask[0] |= bit
        if row.plan == Client.Plan.PAID:
            mask[1] |= bit
        elif row.plan == Client.Plan.TRIAL:
            mask[2] |= bit
    masks = {key: mask for key, mask in masks.items() if mask[0]}
    ClientMonth.objects.filter(month=month).delete()
    fast_insert(
        ClientMonth,
        ["client_id", "customer", "days", "paid_days", "trial_days"],
        ((client, customer, *mask) for (client, customer), mask in masks.items()),
        constants={"month": month},
    )

    figures: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for (_client, customer), (recorded, paid, trial) in masks.items():
        figure = figures[customer]
        figure[2] += paid != 0
        figure[3] += trial != 0 and paid == 0
        figure[4] += recorded.bit_count()
    next_month = month + timedelta(days=days_in_month(month))
    storage = (
        CustomerDay.objects.filter(day__gte=month, day__lt=next_month)
        .values("customer_id")
        .annotate(total=Sum("used_bytes"), peak=Max("used_bytes"))
        .values_list("customer_id", "total", "peak")
    )
    for customer, total, peak in storage:
        figure = figures[customer]
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
