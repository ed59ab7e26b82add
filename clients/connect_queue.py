"""The connect queue: at most AGENT_CONNECT_CONCURRENCY password checks at once in one
server process, each connect waiting at most AGENT_CONNECT_WAIT_SECONDS for its turn.

A connect costs one Argon2 hash (~100 ms of CPU) whatever its outcome. When more agents
connect at once than the cores can hash (a reconnect storm), letting them all in makes
every one of them slow and starves the other calls of the process; here the excess is
refused early instead: 503 service_unavailable with a Retry-After spread over
RETRY_AFTER_SECONDS (jitter, so that the refused agents do not come back together),
before the hash and before any query. A connect holds its slot from the moment its body
is valid to its answer; its hash is nearly all of that time.

The bound is per process, so it matters where a process serves several requests at
once (gunicorn's gthread workers, `GUNICORN_THREADS`; Argon2 releases the GIL while it
hashes). A sync worker serves one request at a time: its bound is already one, and the
excess waits in the listen backlog (docs/scaling.md, "Reconnect storms").
"""

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from clients.agent_requests import AgentError

DEFAULT_CONCURRENCY = 1
DEFAULT_WAIT_SECONDS = 2.0
# The Retry-After of a refused connect, drawn uniformly from this range (seconds).
RETRY_AFTER_SECONDS = (5, 30)
BUSY_MESSAGE = (
    "Too many agents are connecting at once. Try again after Retry-After seconds; an agent "
    "that holds a refresh token can use it instead (POST /agent/refresh, no password check)."
)

_guard = threading.Lock()
_slots: tuple[int, threading.BoundedSemaphore] | None = None


def concurrency() -> int:
    return max(1, int(getattr(settings, "AGENT_CONNECT_CONCURRENCY", DEFAULT_CONCURRENCY)))


def wait_seconds() -> float:
    return max(0.0, float(getattr(settings, "AGENT_CONNECT_WAIT_SECONDS", DEFAULT_WAIT_SECONDS)))


def slots() -> threading.BoundedSemaphore:
    """This process's slots; built again when the setting changes (tests change it)."""
    global _slots
    size = concurrency()
    with _guard:
        if _slots is None or _slots[0] != size:
            _slots = (size, threading.BoundedSemaphore(size))
        return _slots[1]


def busy() -> AgentError:
    retry_after = random.randint(*RETRY_AFTER_SECONDS)  # jitter, not a secret
    return AgentError(
        503,
        "service_unavailable",
        message=BUSY_MESSAGE,
        headers={"Retry-After": str(retry_after)},
    )


@contextmanager
def slot() -> Iterator[None]:
    """Hold one slot for the block; AgentError 503 when none frees within the wait."""
    semaphore = slots()
    wait = wait_seconds()
    taken = semaphore.acquire(timeout=wait) if wait > 0 else semaphore.acquire(blocking=False)
    if not taken:
        raise busy()
    try:
        yield
    finally:
        semaphore.release()
