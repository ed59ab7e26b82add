"""Limits against guessing agent credentials.

Every failed connect (401 invalid_credentials) writes one AuthFailure row per
SecureCloud ID and per client address. A connect is refused with 429 while either
key has too many failures inside the window. The rows live in the database, so
every gunicorn worker (and every server behind the same database) sees the same
counts, on SQLite and PostgreSQL alike.

The limits are settings read at call time (tests lower them):
AGENT_CONNECT_MAX_FAILURES_PER_ID (10), AGENT_CONNECT_MAX_FAILURES_PER_IP (30),
AGENT_CONNECT_FAILURE_WINDOW seconds (900).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from clients.models import AuthFailure

DEFAULT_MAX_FAILURES_PER_ID = 10
DEFAULT_MAX_FAILURES_PER_IP = 30
DEFAULT_WINDOW_SECONDS = 15 * 60


def max_failures_per_id() -> int:
    return getattr(settings, "AGENT_CONNECT_MAX_FAILURES_PER_ID", DEFAULT_MAX_FAILURES_PER_ID)


def max_failures_per_ip() -> int:
    return getattr(settings, "AGENT_CONNECT_MAX_FAILURES_PER_IP", DEFAULT_MAX_FAILURES_PER_IP)


def window() -> timedelta:
    return timedelta(
        seconds=getattr(settings, "AGENT_CONNECT_FAILURE_WINDOW", DEFAULT_WINDOW_SECONDS)
    )


def id_key(securecloud_id: str) -> str:
    return f"id:{securecloud_id}"[:300]


def ip_key(ip: str) -> str:
    return f"ip:{ip}"[:300]


@dataclass(frozen=True)
class Limited:
    retry_after: int  # seconds until the window lets this ID and address try again


def check(securecloud_id: str, ip: str, now: datetime | None = None) -> Limited | None:
    """None when a connect may go ahead; else how long to wait.

    One indexed query counts both keys inside the window; the rare limited case
    reads the failure whose expiry brings the count back under the limit.
    """
    now = now or timezone.now()
    since = now - window()
    limits = {id_key(securecloud_id): max_failures_per_id(), ip_key(ip): max_failures_per_ip()}
    counts = dict(
        AuthFailure.objects.filter(key__in=list(limits), created_at__gt=since)
        .values_list("key")
        .annotate(n=Count("id"))
        .order_by()
    )
    waits = []
    for key, limit in limits.items():
        n = counts.get(key, 0)
        if n >= limit:
            # Once the (n - limit + 1) oldest failures expire, the key is under its limit.
            freeing = (
                AuthFailure.objects.filter(key=key, created_at__gt=since)
                .order_by("created_at")
                .values_list("created_at", flat=True)[n - limit]
            )
            waits.append((freeing + window() - now).total_seconds())
    if not waits:
        return None
    return Limited(retry_after=max(1, math.ceil(max(waits))))


def record_failure(securecloud_id: str, ip: str, now: datetime | None = None) -> None:
    """Count a failed connect against the ID and the address; prune expired rows."""
    now = now or timezone.now()
    AuthFailure.objects.bulk_create(
        [
            AuthFailure(key=id_key(securecloud_id), created_at=now),
            AuthFailure(key=ip_key(ip), created_at=now),
        ]
    )
    AuthFailure.objects.filter(created_at__lte=now - window()).delete()
