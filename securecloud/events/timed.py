"""The time-based events that `run_alerts` finds: trials ending (7, 3 and 1 days
before the end), trials expired, and backups missed (no successful backup within the
customer's alert window, 24 hours unless it sets another). Each is reported once per
occurrence: its key names the client and what makes the occurrence (the trial's end,
the last success), so running again finds it reported, and a new trial end or a new
success makes a new one."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet

from clients import events
from clients.models import Client, Event, expired_trial_q, silent_since_q, trial_ending_q
from securecloud.events.models import DEFAULT_MISSED_AFTER_HOURS, CustomerAlertSetting

TRIAL_ENDING_DAYS = (1, 3, 7)  # smallest first: the nearest mark is the one reported
# Trials that ended longer ago than this are not reported (say, at the first run).
EXPIRED_REPORTED_WITHIN = timedelta(days=7)
BATCH = 1000


def _stamp(value: datetime | None) -> str:
    return value.isoformat() if value else "never"


def _emit_new(candidates: list[tuple[str, str, Client, dict[str, object]]], now: datetime) -> int:
    """Emit the (key, type, client, data) not reported yet; returns how many."""
    emitted = 0
    for start in range(0, len(candidates), BATCH):
        chunk = candidates[start : start + BATCH]
        known = set(
            Event.objects.filter(key__in=[key for key, *_ in chunk]).values_list("key", flat=True)
        )
        with transaction.atomic():
            for key, type, client, data in chunk:
                if key in known:
                    continue
                if events.emit(
                    type,
                    customer=client.customer,
                    client=client,
                    data=data,
                    key=key,
                    now=now,
                    dispatch=False,
                ):
                    emitted += 1
    return emitted


def _clients(condition: Q) -> QuerySet[Client]:
    return Client.objects.filter(condition).select_related("customer").order_by("pk")


def trial_events(now: datetime) -> int:
    candidates: list[tuple[str, str, Client, dict[str, object]]] = []
    for client in _clients(trial_ending_q(now, timedelta(days=max(TRIAL_ENDING_DAYS)))):
        assert client.trial_ends_at is not None
        left = client.trial_ends_at - now
        mark = next(days for days in TRIAL_ENDING_DAYS if left <= timedelta(days=days))
        candidates.append(
            (
                f"trial.ending:{client.pk}:{mark}:{_stamp(client.trial_ends_at)}",
                Event.Type.TRIAL_ENDING,
                client,
                {"days": mark, "trial_ends_at": _stamp(client.trial_ends_at)},
            )
        )
    expired = _clients(expired_trial_q(now) & Q(trial_ends_at__gt=now - EXPIRED_REPORTED_WITHIN))
    for client in expired:
        candidates.append(
            (
                f"trial.expired:{client.pk}:{_stamp(client.trial_ends_at)}",
                Event.Type.TRIAL_EXPIRED,
                client,
                {"trial_ends_at": _stamp(client.trial_ends_at)},
            )
        )
    return _emit_new(candidates, now)


def missed_backup_events(now: datetime) -> int:
    """Clients (not disabled) with no successful backup within their customer's alert
    window (24 hours unless the customer sets another); a client that never backed up
    counts once it has existed for the window."""
    windows = dict(
        CustomerAlertSetting.objects.exclude(
            missed_after_hours=DEFAULT_MISSED_AFTER_HOURS
        ).values_list("customer_id", "missed_after_hours")
    )
    groups: dict[int, Q] = {DEFAULT_MISSED_AFTER_HOURS: ~Q(customer_id__in=list(windows))}
    for hours in set(windows.values()):
        groups[hours] = Q(customer_id__in=[pk for pk, value in windows.items() if value == hours])
    candidates: list[tuple[str, str, Client, dict[str, object]]] = []
    for hours, customers in groups.items():
        since = now - timedelta(hours=hours)
        silent = _clients(silent_since_q(since) & Q(created_at__lt=since) & customers)
        candidates.extend(
            (
                f"backup.missed:{client.pk}:{_stamp(client.last_success_at)}",
                Event.Type.BACKUP_MISSED,
                client,
                {
                    "last_success_at": client.last_success_at.isoformat()
                    if client.last_success_at
                    else None,
                    "window_hours": hours,
                },
            )
            for client in silent.iterator(chunk_size=BATCH)
        )
    return _emit_new(candidates, now)
