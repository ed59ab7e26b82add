"""The audit log: services call record() inside their transaction, so no change goes
unrecorded and no record outlives a rolled-back change."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from hierarchy.actors import login_of
from hierarchy.fastinsert import fast_insert
from hierarchy.models import AuditEvent, Node, subtree_q


def _plain(value):
    """A JSON-safe form of a field value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def snapshot(obj, fields) -> dict:
    return {field: _plain(getattr(obj, field)) for field in fields}


def changes_between(before: dict, after: dict) -> dict:
    """{field: [before, after]} for the fields whose value changed."""
    return {
        field: [before.get(field), after.get(field)]
        for field in after
        if before.get(field) != after.get(field)
    }


def _actor_label(acting_user, origin: str) -> str:
    if acting_user is not None and getattr(acting_user, "is_authenticated", False):
        return acting_user.get_username()
    return origin.split(" ", 1)[0]


def check_origin(origin: str) -> str:
    """The origin every write names: its channel and where from ("console 203.0.113.5",
    "command import_clients", "agent 198.51.100.7"). None or blank is a programming
    error, never something a user typed, so it raises rather than record "nobody"."""
    if not isinstance(origin, str) or not origin.strip():
        raise ValueError("A write must name its origin (the channel and where from).")
    return origin


def record(
    action: str,
    obj,
    *,
    acting_user,
    origin: str,
    changes: dict | None = None,
    object_type: str | None = None,
    reseller: Node | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Record `action` on `obj` (a Node, a Client, a Membership, or None for a run such
    as an import, which then names the `reseller` whose subtree it wrote to).

    `acting_user`: the login that acts, or None for the system (an agent, a command);
    `origin`: the channel and where from, never empty (ValueError); `actor_label`: who
    acted when no login did and the channel does not say (a sign-in with a username
    that no login has: the name tried)."""
    check_origin(origin)
    assert connection.in_atomic_block, "audit records are written inside the change's transaction"
    scoped_reseller, customer_code, code = _scope(obj)
    reseller = reseller if reseller is not None else scoped_reseller
    return AuditEvent.objects.create(
        actor=login_of(acting_user),
        actor_label=(actor_label or _actor_label(acting_user, origin))[:300],
        origin=origin[:300],
        action=action,
        object_type=object_type or _type_of(obj),
        object_code=code,
        object_repr=str(obj)[:300] if obj is not None else (reseller.name if reseller else ""),
        reseller=reseller,
        customer_code=customer_code,
        changes=changes or {},
    )


def record_import(kind: str, top: Node, summary, *, acting_user, origin: str):
    """One record per import run, with its counts."""
    return record(
        f"import.{kind}",
        None,
        acting_user=acting_user,
        origin=origin,
        object_type="import",
        reseller=top,
        changes={
            "created": [None, summary.created],
            "updated": [None, summary.updated],
            "unchanged": [None, summary.unchanged],
        },
    )


def _type_of(obj) -> str:
    if isinstance(obj, Node):
        return obj.kind
    return obj._meta.model_name if obj is not None else "run"


def _scope(obj):
    """(reseller node, customer code, object code) that the event is filed under: each
    audited model says so itself (audit_scope), so the log needs to know none of them."""
    if obj is None:
        return None, None, None
    return obj.audit_scope()


def history_for_user(user, node=None, client=None):
    """Events the user may read (the tenancy scoping every read goes through), narrowed
    to one node or client."""
    events = AuditEvent.objects.visible_to(user).select_related("actor")
    if client is not None:
        return events.filter(object_code=client.code)
    if node is not None and node.is_customer:
        return events.filter(Q(object_code=node.code) | Q(customer_code=node.code))
    if node is not None:
        return events.filter(subtree_q(node, "reseller__"))
    return events


@dataclass(frozen=True, slots=True)
class Entry:
    """One object's event in a bulk write: what record() reads off an instance (see
    audit_scope), given directly, as bulk writes have rows rather than instances."""

    object_type: str
    object_code: UUID
    object_repr: str
    reseller_id: int | None
    customer_code: UUID | None
    changes: dict[str, Any]


def record_many(action: str, entries: Iterable[Entry], *, acting_user, origin: str) -> int:
    """Record `action` once per entry, all in one bulk insert, inside the bulk write's
    transaction (as record() is inside a service's); returns the count."""
    assert connection.in_atomic_block, "audit records are written inside the change's transaction"
    login = login_of(acting_user)
    actor_id = login.pk if login is not None else None
    label = _actor_label(acting_user, origin)[:300]
    origin = origin[:300]
    return fast_insert(
        AuditEvent,
        ["object_type", "object_code", "object_repr", "reseller", "customer_code", "changes"],
        (
            (
                entry.object_type,
                entry.object_code,
                entry.object_repr[:300],
                entry.reseller_id,
                entry.customer_code,
                entry.changes,
            )
            for entry in entries
        ),
        constants={
            "at": timezone.now(),
            "actor": actor_id,
            "actor_label": label,
            "origin": origin,
            "action": action,
        },
    )


def snapshot_value(value: Any) -> Any:
    """A field value as snapshot() stores it (JSON-safe)."""
    return _plain(value)
