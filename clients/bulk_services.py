"""Writes of many clients at once, for the imports: the rules of clients.services (a new
client's plan, status and trial end, token revocation when a password changes or a
client is disabled, the customers' totals, one audit event per client) applied to a
whole plan in one transaction, through the database's fastest bulk path."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from clients import services
from clients.models import Client
from hierarchy import audit
from hierarchy.fastinsert import fast_insert
from hierarchy.models import Node

NEW_CLIENT_FIELDS = [
    "code",
    "customer",
    "securecloud_id",
    "name",
    "email",
    "password",
    "plan",
    "trial_ends_at",
    "status",
]
UPDATE_BATCH = 5000


@dataclass(slots=True)
class NewClient:
    """A client to create. The password is already hashed ("" for none yet); an empty
    plan or status takes create_client's (trial, pending); a trial with no end lasts the
    customer's trial length from now."""

    customer_id: int
    securecloud_id: str
    name: str
    email: str
    password: str
    plan: str = ""
    trial_ends_at: datetime | None = None
    status: str = ""


@dataclass(frozen=True, slots=True)
class ClientState:
    """The fields of a client that an import may change."""

    customer_id: int
    name: str
    email: str
    password: str  # a hash
    plan: str
    trial_ends_at: datetime | None
    status: str


@dataclass(slots=True)
class ClientUpdate:
    """A client as stored (`before`, its storage used) and as an import leaves it."""

    pk: int
    code: uuid.UUID
    securecloud_id: str
    used_bytes: int
    before: ClientState
    after: ClientState

    @property
    def revokes_tokens(self) -> bool:
        """Its agents must connect again, as after set_client_password or disable_client."""
        return self.after.password != self.before.password or (
            self.after.status == Client.Status.DISABLED
            and self.before.status != Client.Status.DISABLED
        )


def plan_trial_end(
    plan: str, given: datetime | None, *, before: ClientState | None, trial_days: int, now: datetime
) -> datetime | None:
    """The trial end a client gets: none when paid; else the one given, else the one it has
    as a trial already, else the customer's trial length from now (services.trial_end)."""
    if plan != Client.Plan.TRIAL:
        return None
    if given is not None:
        return given
    if before is not None and before.plan == Client.Plan.TRIAL:
        return before.trial_ends_at
    return services.trial_end(now, trial_days)


def _customers(pks: Iterable[int]) -> dict[int, tuple[int, uuid.UUID, str, int]]:
    """{pk: (parent pk, code, name, trial days)} of these customers."""
    ids = list(set(pks))
    found: dict[int, tuple[int, uuid.UUID, str, int]] = {}
    for start in range(0, len(ids), services.TOTALS_CHUNK):
        for pk, parent_id, code, name, days in Node.objects.filter(
            pk__in=ids[start : start + services.TOTALS_CHUNK], kind=Node.Kind.CUSTOMER
        ).values_list("pk", "parent_id", "code", "name", "trial_days"):
            found[pk] = (parent_id, code, name, days)
    return found


def create_clients(
    clients: Sequence[NewClient],
    *,
    acting_user: Any,
    origin: str,
    progress: Callable[[Iterator[tuple[Any, ...]]], Iterable[tuple[Any, ...]]] | None = None,
) -> int:
    """Create clients as create_client does, many at once; returns the count. The caller
    has validated every field (clean_new_client) and checked that no ID is taken."""
    if not clients:
        return 0
    now = timezone.now()
    customers = _customers(c.customer_id for c in clients)
    codes = [uuid.uuid4() for _ in clients]
    trial = Client.Plan.TRIAL
    pending = Client.Status.PENDING
    ends_for = {pk: services.trial_end(now, days) for pk, (_, _, _, days) in customers.items()}

    def values(client: NewClient) -> tuple[str, datetime | None, str]:
        plan = client.plan or trial
        ends = (client.trial_ends_at or ends_for[client.customer_id]) if plan == trial else None
        return plan, ends, client.status or pending

    settled = [values(client) for client in clients]

    def rows() -> Iterator[tuple[Any, ...]]:
        for code, client, (plan, ends, status) in zip(codes, clients, settled, strict=True):
            yield (
                code,
                client.customer_id,
                client.securecloud_id,
                client.name,
                client.email,
                client.password,
                plan,
                ends,
                status,
            )

    def entries() -> Iterator[audit.Entry]:
        for code, client, (plan, ends, status) in zip(codes, clients, settled, strict=True):
            parent_id, customer_code, _, _ = customers[client.customer_id]
            yield audit.Entry(
                object_type="client",
                object_code=code,
                object_repr=client.securecloud_id,
                reseller_id=parent_id,
                customer_code=customer_code,
                changes={
                    "securecloud_id": [None, client.securecloud_id],
                    "name": [None, client.name],
                    "email": [None, client.email],
                    "plan": [None, plan],
                    "trial_ends_at": [None, ends.isoformat() if ends else None],
                    "status": [None, status],
                },
            )

    counts: dict[int, int] = defaultdict(int)
    for client in clients:
        counts[client.customer_id] += 1
    with transaction.atomic():
        count: int = fast_insert(
            Client, NEW_CLIENT_FIELDS, progress(rows()) if progress else rows()
        )
        services.shift_customer_totals({pk: (n, 0) for pk, n in counts.items()})
        audit.record_many("client.created", entries(), acting_user=acting_user, origin=origin)
    return count


def _changes(update: ClientUpdate, names: dict[int, str]) -> dict[str, list[Any]]:
    """The audited changes, as the one-object services record them: the customer by name,
    the trial end as text, never the password (see set_client_password)."""
    before, after = update.before, update.after
    changes: dict[str, list[Any]] = {}
    if before.customer_id != after.customer_id:
        changes["customer"] = [names.get(before.customer_id), names.get(after.customer_id)]
    for field in ("name", "email", "plan", "trial_ends_at", "status"):
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            changes[field] = [audit.snapshot_value(old), audit.snapshot_value(new)]
    return changes


def update_clients(updates: Sequence[ClientUpdate], *, acting_user: Any, origin: str) -> int:
    """Change clients as the one-object services would, many at once; returns the count.

    A client moved to another customer takes its storage used along (move_client); a new
    password or a disabling revokes its agent tokens (set_client_password,
    disable_client). Each changed client gets a "client.edited" event with the old and
    new values, and a "client.password_reset" event when its password changed.
    """
    updates = [u for u in updates if u.before != u.after]
    if not updates:
        return 0
    now = timezone.now()
    customers = _customers(
        pk for u in updates for pk in (u.before.customer_id, u.after.customer_id)
    )
    names = {pk: name for pk, (_, _, name, _) in customers.items()}
    meta = Client._meta
    fields = ["customer", "name", "email", "password", "plan", "trial_ends_at", "status"]
    table = connection.ops.quote_name(meta.db_table)
    column = {field.name: field.column for field in meta.concrete_fields}
    sets = ", ".join(
        f"{connection.ops.quote_name(column[name])} = %s" for name in [*fields, "updated_at"]
    )
    sql = f"UPDATE {table} SET {sets} WHERE id = %s"
    ends_field = meta.get_field("trial_ends_at")
    stamp = meta.get_field("updated_at").get_db_prep_save(now, connection)
    params = [
        (
            u.after.customer_id,
            u.after.name,
            u.after.email,
            u.after.password,
            u.after.plan,
            ends_field.get_db_prep_save(u.after.trial_ends_at, connection),
            u.after.status,
            stamp,
            u.pk,
        )
        for u in updates
    ]
    deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for u in updates:
        if u.before.customer_id != u.after.customer_id:
            deltas[u.before.customer_id][0] -= 1
            deltas[u.before.customer_id][1] -= u.used_bytes
            deltas[u.after.customer_id][0] += 1
            deltas[u.after.customer_id][1] += u.used_bytes

    def entries(
        changed: Iterable[tuple[ClientUpdate, dict[str, list[Any]]]],
    ) -> Iterator[audit.Entry]:
        for u, changes in changed:
            parent_id, customer_code, _, _ = customers[u.after.customer_id]
            yield audit.Entry(
                object_type="client",
                object_code=u.code,
                object_repr=u.securecloud_id,
                reseller_id=parent_id,
                customer_code=customer_code,
                changes=changes,
            )

    edited = [(u, _changes(u, names)) for u in updates]
    with transaction.atomic():
        with connection.cursor() as cursor:
            for start in range(0, len(params), UPDATE_BATCH):
                cursor.executemany(sql, params[start : start + UPDATE_BATCH])
        services.revoke_agent_tokens_of(u.pk for u in updates if u.revokes_tokens)
        services.shift_customer_totals({pk: (d[0], d[1]) for pk, d in deltas.items()})
        audit.record_many(
            "client.edited",
            entries((u, c) for u, c in edited if c),
            acting_user=acting_user,
            origin=origin,
        )
        audit.record_many(
            "client.password_reset",
            entries((u, {}) for u in updates if u.after.password != u.before.password),
            acting_user=acting_user,
            origin=origin,
        )
    return len(updates)
