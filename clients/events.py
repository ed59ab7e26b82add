"""The outbox's writing side: `emit` writes an event in the transaction of the change
that causes it (clients.models.Event), so a rolled-back change emits nothing. After the
commit, the delivery registered by the app that sends events (securecloud.events, a
layer above: it calls `set_dispatcher` when Django starts) runs; a process that dies
in between loses nothing, `run_alerts` sends what is left.

The agent's hot path writes its events (backup.failed, storage.warning, storage.full)
in its own statement (clients.agent_store) and asks for the same delivery.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import Client, Event
from hierarchy.models import Node

Dispatcher = Callable[[], object]
_dispatcher: list[Dispatcher] = []


def set_dispatcher(dispatcher: Dispatcher) -> None:
    """What runs after a commit that wrote events (one, set when the apps are ready)."""
    _dispatcher[:] = [dispatcher]


def dispatch_after_commit() -> None:
    """Deliver after the current transaction commits (at once outside one); a rollback
    drops the request with the events. Each delivery sends whatever the outbox holds,
    so a later one of the same commit finds little or nothing left."""
    if _dispatcher:
        transaction.on_commit(_dispatch)


def _dispatch() -> None:
    for dispatcher in _dispatcher:
        dispatcher()


def emit(
    type: str,
    *,
    customer: Node | None,
    client: Client | None = None,
    data: dict[str, Any] | None = None,
    key: str | None = None,
    now: datetime | None = None,
    dispatch: bool = True,
) -> Event | None:
    """Write an event in the current transaction; None when `key` was reported already
    (a time-based condition is reported once per occurrence). `dispatch=False`: the
    caller delivers once for many events (run_alerts)."""
    event = Event(
        type=type,
        customer=customer,
        client=client,
        data={**(data or {}), **({"securecloud_id": client.securecloud_id} if client else {})},
        key=key,
        created_at=now or timezone.now(),
    )
    if key is None:
        event.save()
    else:
        try:
            with transaction.atomic():
                event.save()
        except IntegrityError:
            return None
    if dispatch:
        dispatch_after_commit()
    return event
