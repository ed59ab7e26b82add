"""Writes of many customers at once, for the imports: the rules of hierarchy.services
(cleaned fields and their defaults, a registration key per new customer, the tree's
lock, one audit event per object) applied to a whole plan in one transaction, with the
nested-set arithmetic of hierarchy.nested_sets instead of one tree shift per node."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from hierarchy import audit, services
from hierarchy.models import Node, new_registration_key
from hierarchy.nested_sets import append_leaves


@dataclass(frozen=True, slots=True)
class CustomerUpdate:
    """A customer's settings as stored (`before`) and as an import leaves them (`after`,
    cleaned by services.clean_customer_fields)."""

    pk: int
    code: uuid.UUID
    name: str
    parent_id: int
    before: Mapping[str, Any]
    after: Mapping[str, Any]

    @property
    def changes(self) -> dict[str, list[Any]]:
        return {
            field: [self.before[field], value]
            for field, value in self.after.items()
            if self.before[field] != value
        }


def new_customer(parent_id: int | None, cleaned: Mapping[str, Any], *, now: Any = None) -> Node:
    """An unsaved customer node as create_customer makes it: cleaned settings, a code and
    a registration key of its own (its place in the tree is set when it is inserted)."""
    now = now or timezone.now()
    return Node(
        kind=Node.Kind.CUSTOMER,
        parent_id=parent_id,
        code=uuid.uuid4(),
        registration_key=new_registration_key(),
        used_bytes=0,
        client_count=0,
        created_at=now,
        updated_at=now,
        **cleaned,
    )


def create_customers(
    tree_id: int,
    creates: Mapping[int, Sequence[Mapping[str, Any]]],
    *,
    acting_user: Any,
    origin: str,
) -> list[Node]:
    """New customers under resellers of one tree: {parent pk: [cleaned settings, ...]}.

    Each becomes the last child of its parent, as create_customer places one; every
    customer gets the audit event create_customer records.
    """
    now = timezone.now()
    leaves = {
        parent_id: [new_customer(parent_id, cleaned, now=now) for cleaned in rows]
        for parent_id, rows in creates.items()
        if rows
    }
    created = [leaf for rows in leaves.values() for leaf in rows]
    with transaction.atomic():
        services.lock_tree(tree_id)
        append_leaves(tree_id, leaves)
        audit.record_many(
            "customer.created",
            (
                audit.Entry(
                    object_type=Node.Kind.CUSTOMER,
                    object_code=leaf.code,
                    object_repr=leaf.name,
                    reseller_id=leaf.parent_id,
                    customer_code=leaf.code,
                    changes={
                        field: [None, getattr(leaf, field)] for field in services.CUSTOMER_SETTINGS
                    },
                )
                for leaf in created
            ),
            acting_user=acting_user,
            origin=origin,
        )
    return created


def update_customers(updates: Iterable[CustomerUpdate], *, acting_user: Any, origin: str) -> int:
    """Change customers' settings, as update_customer does one: only the changed fields
    are written, and each changed customer gets its "customer.edited" event with the old
    and new values. Returns how many changed."""
    changed = [(update, update.changes) for update in updates]
    changed = [(update, changes) for update, changes in changed if changes]
    if not changed:
        return 0
    now = timezone.now()
    with transaction.atomic():
        for update, changes in changed:
            Node.objects.filter(pk=update.pk, kind=Node.Kind.CUSTOMER).update(
                **{field: after for field, (_, after) in changes.items()}, updated_at=now
            )
        audit.record_many(
            "customer.edited",
            (
                audit.Entry(
                    object_type=Node.Kind.CUSTOMER,
                    object_code=update.code,
                    object_repr=update.after.get("name", update.name),
                    reseller_id=update.parent_id,
                    customer_code=update.code,
                    changes=changes,
                )
                for update, changes in changed
            ),
            acting_user=acting_user,
            origin=origin,
        )
    return len(changed)
