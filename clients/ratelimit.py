"""Limits against guessing agent credentials.

Failed connects (401 invalid_credentials) are counted per SecureCloud ID *and* client
address, and per client address: 10 failures for one ID from one address refuse that
ID from that address, 30 failures from one address refuse every connect from it, for
15 minutes. Failures elsewhere never refuse the right machine: an attacker who knows a
client's SecureCloud ID cannot lock its agent out from another address, and the agent's
correct password is always checked.

Check and count are one step: `begin` counts the attempt (one AuthFailure row per key)
in the same transaction that checks the limits, serialised per client address (a
PostgreSQL advisory lock; on SQLite the IMMEDIATE transaction holds the write lock), so
simultaneous attempts cannot all pass a check that each of them would fill. A
successful attempt takes its rows back (`succeeded`); a failed one leaves them. The
rows live in the database, so every server process sees the same counts.

Failed refreshes (401 invalid_refresh_token: a refresh token unknown, revoked or used
already) are counted per client address under a key of their own, in the same table and
window: past 30 of them, a failed refresh from that address answers 429 with
Retry-After instead of 401, and is not counted. They never refuse the address's
connects, so a NAT full of agents whose refresh tokens were revoked together (a mass
password reset) can still sign in with their passwords. Nobody guesses a 256-bit token,
so this limit only bounds the work garbage costs, and a valid refresh token is never
refused for its address: the check and the count are two steps (`refresh_limited`,
`refresh_failed`) on the failure path only, without the address's lock, and a
successful refresh costs no query here.

The limits are settings read at call time (tests lower them):
AGENT_CONNECT_MAX_FAILURES_PER_ID (10, per ID from one address),
AGENT_CONNECT_MAX_FAILURES_PER_IP (30), AGENT_REFRESH_MAX_FAILURES_PER_IP (30),
AGENT_CONNECT_FAILURE_WINDOW seconds (900, both).
"""

import hashlib
import math
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from clients.models import AuthFailure
from securecloud.http import limit_address

DEFAULT_MAX_FAILURES_PER_ID = 10
DEFAULT_MAX_FAILURES_PER_IP = 30
DEFAULT_WINDOW_SECONDS = 15 * 60
# Namespace of the advisory locks that serialise the attempts of one address.
_LOCK_NAMESPACE = 7412


def max_failures_per_id() -> int:
    return getattr(settings, "AGENT_CONNECT_MAX_FAILURES_PER_ID", DEFAULT_MAX_FAILURES_PER_ID)


def max_failures_per_ip() -> int:
    return getattr(settings, "AGENT_CONNECT_MAX_FAILURES_PER_IP", DEFAULT_MAX_FAILURES_PER_IP)


def max_refresh_failures_per_ip() -> int:
    return getattr(settings, "AGENT_REFRESH_MAX_FAILURES_PER_IP", DEFAULT_MAX_FAILURES_PER_IP)


def window() -> timedelta:
    return timedelta(
        seconds=getattr(settings, "AGENT_CONNECT_FAILURE_WINDOW", DEFAULT_WINDOW_SECONDS)
    )


def id_ip_key(securecloud_id: str, ip: str) -> str:
    """One SecureCloud ID from one address (a digest: both together can be long)."""
    digest = hashlib.sha256(f"{securecloud_id}\n{ip}".encode()).hexdigest()
    return f"id+ip:{digest}"


def ip_key(ip: str) -> str:
    return f"ip:{ip}"[:300]


def refresh_ip_key(ip: str) -> str:
    return f"refresh-ip:{ip}"[:300]


@dataclass(frozen=True)
class Limited:
    retry_after: int  # seconds until the window lets this ID and address try again


@dataclass(frozen=True)
class Attempt:
    """An attempt counted as a failure until it is known to have succeeded."""

    row_ids: tuple[int, ...]


def begin(securecloud_id: str, ip: str, now: datetime | None = None) -> Attempt | Limited:
    """Count an attempt, or say how long to wait when the ID from this address, or the
    address, already has too many failures. Atomic: see the module's docstring."""
    now = now or timezone.now()
    since = now - window()
    ip = limit_address(ip)  # an IPv6 address counts as its /64
    limits = {
        id_ip_key(securecloud_id, ip): max_failures_per_id(),
        ip_key(ip): max_failures_per_ip(),
    }
    with transaction.atomic():
        _lock_address(ip)
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
                waits.append(_seconds_until_under(key, n, limit, now))
        if waits:
            return Limited(retry_after=max(1, math.ceil(max(waits))))
        rows = AuthFailure.objects.bulk_create(
            [AuthFailure(key=key, created_at=now) for key in limits]
        )
    return Attempt(row_ids=tuple(row.pk for row in rows))


def _seconds_until_under(key: str, n: int, limit: int, now: datetime) -> float:
    """Once the (n - limit + 1) oldest of a key's n failures expire, it is under its limit."""
    freeing = (
        AuthFailure.objects.filter(key=key, created_at__gt=now - window())
        .order_by("created_at")
        .values_list("created_at", flat=True)[n - limit]
    )
    return (freeing + window() - now).total_seconds()


def refresh_limited(ip: str, now: datetime | None = None) -> Limited | None:
    """How long to wait when this address has too many failed refreshes, else None."""
    now = now or timezone.now()
    key, limit = refresh_ip_key(limit_address(ip)), max_refresh_failures_per_ip()
    n = AuthFailure.objects.filter(key=key, created_at__gt=now - window()).count()
    if n < limit:
        return None
    return Limited(retry_after=max(1, math.ceil(_seconds_until_under(key, n, limit, now))))


def refresh_failed(ip: str, now: datetime | None = None) -> None:
    """Count a failed refresh from this address; expired failures are pruned meanwhile."""
    now = now or timezone.now()
    AuthFailure.objects.create(key=refresh_ip_key(limit_address(ip)), created_at=now)
    AuthFailure.objects.filter(created_at__lte=now - window()).delete()


def _lock_address(ip: str) -> None:
    """Serialise the attempts of one address until the transaction ends (every key an
    attempt counts includes its address)."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(ip_key(ip).encode()) - 2**31  # a signed 32-bit integer
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, key])


def succeeded(attempt: Attempt) -> None:
    """The attempt was no credentials failure: it does not count."""
    AuthFailure.objects.filter(pk__in=attempt.row_ids).delete()


def failed(attempt: Attempt, now: datetime | None = None) -> None:
    """The attempt stays counted; expired failures are pruned meanwhile."""
    now = now or timezone.now()
    AuthFailure.objects.filter(created_at__lte=now - window()).delete()
