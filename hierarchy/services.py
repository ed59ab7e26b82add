"""Writes to the organisation tree. Console views, admin actions, commands and the API
all come through here: each function validates, runs in one transaction, and takes
the acting user (None: the system) and the origin (the channel and where from, for the
audit log) as required keyword arguments.

Tree writes are serialised per tree: django-mptt computes lft/rght from values it
read earlier and locks nothing, so each write takes the tree's lock first and then
re-reads the nodes it builds on.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from hierarchy import audit
from hierarchy.actors import ActingUser
from hierarchy.models import (
    DEFAULT_TRIAL_DAYS,
    DEFAULT_USAGE_SPACE,
    Node,
    new_registration_key,
)
from hierarchy.validators import clean_email_address, clean_name, clean_reseller_name

# Namespace of our PostgreSQL advisory locks: (namespace, tree_id); tree_id 0 = new roots.
_TREE_LOCK_NAMESPACE = 7411
_NEW_ROOT_LOCK = 0
MAX_TRIAL_DAYS = 3650
CUSTOMER_SETTINGS = (
    "name",
    "contact_email",
    "contact_name",
    "usage_space_bytes",
    "auto_add_clients",
    "email_reports",
    "trial_days",
)


def lock_tree(tree_id: int) -> None:
    """Serialise writes to one tree until the surrounding transaction ends.

    On SQLite the IMMEDIATE transaction mode (settings) already holds the database's
    single write lock from BEGIN, so there is nothing more to take.
    """
    assert connection.in_atomic_block, "lock_tree() needs a transaction"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_TREE_LOCK_NAMESPACE, tree_id])


def lock_new_roots() -> None:
    """New roots take tree_id = max + 1: two at once would share a tree."""
    lock_tree(_NEW_ROOT_LOCK)


def _clean_name(name: str, field: str = "name") -> str:
    return clean_name(name, field=field)


def _clean_reseller_name(name: str) -> str:
    return clean_reseller_name(name)


def _reload_reseller(parent: Node) -> Node:
    """Re-read a parent inside the tree lock (its lft/rght may have moved)."""
    parent = Node.objects.get(pk=parent.pk)
    if not parent.is_reseller:
        raise ValidationError("Only a reseller can hold resellers and customers.", code="parent")
    return parent


def reseller_name_taken(name: str, *, parent: Node | None, exclude_pk: int | None = None) -> bool:
    """Whether a reseller under `parent` (None: a top-level one) may not take `name`.

    A sub-reseller's name must be free within its top-level reseller's tree, a top-level
    reseller's among the top-level ones. Other tenants' trees are never looked at: a
    refusal tells an admin nothing about them, and no tenant's sub-reseller can take a
    future tenant's name from the operator. (--reseller in commands means the top-level
    reseller of a name first.)
    """
    qs = Node.objects.resellers().filter(name__iexact=name)
    if parent is None:
        qs = qs.filter(parent=None)
    else:
        qs = qs.filter(tree_id=parent.tree_id)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return bool(qs.exists())


def customer_name_taken(parent: Node, name: str, exclude_pk: int | None = None) -> bool:
    qs = Node.objects.customers().filter(parent=parent, name__iexact=name)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return bool(qs.exists())


def _save_unique(node: Node, message: dict[str, str]) -> None:
    """Save, turning a lost race on a unique constraint into a validation error."""
    try:
        with transaction.atomic():
            node.save()
    except IntegrityError as exc:
        raise ValidationError(message, code="unique") from exc


def create_reseller(
    parent: Node | None, *, name: str, acting_user: ActingUser, origin: str
) -> Node:
    """A top-level reseller (parent None) or a sub-reseller under `parent`."""
    name = _clean_reseller_name(name)
    taken = {"name": "A reseller with this name already exists."}
    with transaction.atomic():
        if parent is None:
            lock_new_roots()
        else:
            lock_tree(parent.tree_id)
            parent = _reload_reseller(parent)
        if reseller_name_taken(name, parent=parent):
            raise ValidationError(taken, code="unique")
        node = Node(kind=Node.Kind.RESELLER, name=name, parent=parent)
        _save_unique(node, taken)
        audit.record(
            "reseller.created",
            node,
            acting_user=acting_user,
            origin=origin,
            changes={"name": [None, name], "parent": [None, parent.name if parent else None]},
        )
    return node


def clean_customer_fields(
    *,
    name: str,
    contact_email: str,
    contact_name: str = "",
    usage_space_bytes: int | None = DEFAULT_USAGE_SPACE,
    auto_add_clients: bool = False,
    email_reports: bool = False,
    trial_days: int = DEFAULT_TRIAL_DAYS,
) -> dict[str, Any]:
    """Validate a customer's settings; the form, the import and the admin share it."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    try:
        cleaned["name"] = _clean_name(name)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    contact_email = (contact_email or "").strip()
    if not contact_email:
        errors["contact_email"] = ["Enter the customer's contact email."]
    else:
        try:
            contact_email = clean_email_address(contact_email)
        except ValidationError as exc:
            errors["contact_email"] = exc.messages
    try:
        contact_name = clean_name(contact_name, field="contact_name", required=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if usage_space_bytes is not None and usage_space_bytes <= 0:
        errors["usage_space_bytes"] = ["Usage space must be more than zero."]
    if not isinstance(trial_days, int) or not 1 <= trial_days <= MAX_TRIAL_DAYS:
        errors["trial_days"] = [f"Enter a trial length from 1 to {MAX_TRIAL_DAYS} days."]
    if errors:
        raise ValidationError(errors)
    cleaned.update(
        contact_email=contact_email,
        contact_name=contact_name,
        usage_space_bytes=usage_space_bytes,
        auto_add_clients=bool(auto_add_clients),
        email_reports=bool(email_reports),
        trial_days=trial_days,
    )
    return cleaned


def create_customer(parent: Node, *, acting_user: ActingUser, origin: str, **fields: Any) -> Node:
    cleaned = clean_customer_fields(**fields)
    taken = {"name": "This reseller already has a customer with this name."}
    with transaction.atomic():
        lock_tree(parent.tree_id)
        parent = _reload_reseller(parent)
        if customer_name_taken(parent, cleaned["name"]):
            raise ValidationError(taken, code="unique")
        customer = Node(
            kind=Node.Kind.CUSTOMER,
            parent=parent,
            registration_key=new_registration_key(),
            **cleaned,
        )
        _save_unique(customer, taken)
        audit.record(
            "customer.created",
            customer,
            acting_user=acting_user,
            origin=origin,
            changes={field: [None, value] for field, value in cleaned.items()},
        )
    return customer


def _require_customer(node: Node) -> None:
    if not node.is_customer:
        raise ValidationError("This is not a customer.", code="not_customer")


def update_customer(
    customer: Node, *, acting_user: ActingUser, origin: str, **changes: Any
) -> Node:
    """Edit a customer's settings (not its place in the tree: see move_customer)."""
    _require_customer(customer)
    current = audit.snapshot(customer, CUSTOMER_SETTINGS)
    unknown = set(changes) - set(current)
    if unknown:
        raise TypeError(f"update_customer() got unknown fields: {sorted(unknown)}")
    cleaned = clean_customer_fields(**{**current, **changes})
    changed = [field for field, value in cleaned.items() if current[field] != value]
    if not changed:
        return customer
    with transaction.atomic():
        if "name" in changed and customer_name_taken(
            customer.parent, cleaned["name"], exclude_pk=customer.pk
        ):
            raise ValidationError(
                {"name": "This reseller already has a customer with this name."}, code="unique"
            )
        for field in changed:
            setattr(customer, field, cleaned[field])
        try:
            with transaction.atomic():
                customer.save(update_fields=[*changed, "updated_at"])
        except IntegrityError as exc:
            raise ValidationError(
                {"name": "This reseller already has a customer with this name."}, code="unique"
            ) from exc
        audit.record(
            "customer.edited",
            customer,
            acting_user=acting_user,
            origin=origin,
            changes={field: [current[field], cleaned[field]] for field in changed},
        )
    return customer


def set_auto_authorization(
    customer: Node, enabled: bool, *, acting_user: ActingUser, origin: str
) -> Node:
    """Turn "Automatically add clients when they connect to the server" on or off.

    Turning it off does not touch existing clients: they keep their passwords.
    """
    _require_customer(customer)
    with transaction.atomic():
        # Re-read under a row lock: two admins toggling at once must not undo each other.
        before = (
            Node.objects.select_for_update()
            .values_list("auto_add_clients", flat=True)
            .get(pk=customer.pk)
        )
        customer.auto_add_clients = bool(enabled)
        if before == customer.auto_add_clients:
            return customer  # nothing changed, nothing to record
        customer.save(update_fields=["auto_add_clients", "updated_at"])
        audit.record(
            "customer.auto_authorization",
            customer,
            acting_user=acting_user,
            origin=origin,
            changes={"auto_add_clients": [before, bool(enabled)]},
        )
    return customer


def regenerate_registration_key(customer: Node, *, acting_user: ActingUser, origin: str) -> Node:
    """A new key; the old one stops working at once."""
    _require_customer(customer)
    with transaction.atomic():
        customer.registration_key = new_registration_key()
        customer.save(update_fields=["registration_key", "updated_at"])
        # The key itself is a secret: the log says that it changed, not what it is.
        audit.record(
            "customer.registration_key_regenerated",
            customer,
            acting_user=acting_user,
            origin=origin,
        )
    return customer


def _move_and_record(
    node: Node, new_parent: Node, action: str, *, acting_user: ActingUser, origin: str
) -> Node:
    """The last step of a move, inside its transaction and under the tree's lock: move
    `node` to the end of `new_parent`'s children and record it; returns it reloaded."""
    old_parent_name = node.parent.name
    node.move_to(new_parent, "last-child")
    moved: Node = Node.objects.select_related("parent").get(pk=node.pk)
    audit.record(
        action,
        moved,
        acting_user=acting_user,
        origin=origin,
        changes={"parent": [old_parent_name, new_parent.name]},
    )
    return moved


def move_customer(
    customer: Node, new_parent: Node, *, acting_user: ActingUser, origin: str
) -> Node:
    """Move a customer (with its clients, which follow the foreign key) under another reseller."""
    _require_customer(customer)
    with transaction.atomic():
        for tree_id in sorted({customer.tree_id, new_parent.tree_id}):
            lock_tree(tree_id)
        # Locked: django-mptt's move saves the whole row, so a storage total an agent
        # moved between this read and that save would be written back stale. (Agents lock
        # a client, then its customer; this takes no client lock, so no deadlock.)
        customer = Node.objects.select_for_update().get(pk=customer.pk)
        new_parent = _reload_reseller(new_parent)
        if customer.parent_id == new_parent.pk:
            return customer
        if customer_name_taken(new_parent, customer.name):
            raise ValidationError(
                {"parent": f"{new_parent.name} already has a customer named {customer.name}."},
                code="unique",
            )
        return _move_and_record(
            customer, new_parent, "customer.moved", acting_user=acting_user, origin=origin
        )


def delete_customer(customer: Node, *, acting_user: ActingUser, origin: str) -> None:
    """Delete a customer that has no clients (clients must be moved or deleted first)."""
    _require_customer(customer)
    with transaction.atomic():
        lock_tree(customer.tree_id)
        customer = Node.objects.get(pk=customer.pk)
        count = customer.clients.count()
        if count:
            raise ValidationError(
                f"{customer.name} still has {count} client{'s' if count != 1 else ''}: "
                "move them to another customer or delete them first.",
                code="has_clients",
            )
        audit.record(
            "customer.deleted",
            customer,
            acting_user=acting_user,
            origin=origin,
            changes={
                field: [value, None]
                for field, value in audit.snapshot(customer, CUSTOMER_SETTINGS).items()
            },
        )
        customer.delete()


TOP_LEVEL_RENAME = "The name of a top-level reseller is changed by the server's operator."


def check_may_rename_reseller(reseller: Node, *, acting_user: ActingUser) -> None:
    """A top-level reseller's name is the server-wide key of the operators' commands
    (`--reseller NAME`) and cron jobs: only the server's operator renames it (a superuser,
    or the system: a command). Raises PermissionDenied with the message to show."""
    if (
        reseller.parent_id is None
        and acting_user is not None
        and not getattr(acting_user, "is_superuser", False)
    ):
        raise PermissionDenied(TOP_LEVEL_RENAME)


def rename_reseller(reseller: Node, name: str, *, acting_user: ActingUser, origin: str) -> Node:
    if not reseller.is_reseller:
        raise ValidationError("This is not a reseller.", code="not_reseller")
    check_may_rename_reseller(reseller, acting_user=acting_user)
    name = _clean_reseller_name(name)
    taken = {"name": "A reseller with this name already exists."}
    with transaction.atomic():
        if reseller_name_taken(name, parent=reseller.parent, exclude_pk=reseller.pk):
            raise ValidationError(taken, code="unique")
        before = reseller.name
        reseller.name = name
        try:
            with transaction.atomic():
                reseller.save(update_fields=["name", "updated_at"])
        except IntegrityError as exc:
            raise ValidationError(taken, code="unique") from exc
        audit.record(
            "reseller.renamed",
            reseller,
            acting_user=acting_user,
            origin=origin,
            changes={"name": [before, name]},
        )
    return reseller


def set_two_factor_policy(
    reseller: Node, required: bool, *, acting_user: ActingUser, origin: str
) -> Node:
    """Require (or stop requiring) a second factor of every admin in `reseller`'s subtree."""
    if not reseller.is_reseller:
        raise ValidationError("Only a reseller sets a sign-in policy.", code="not_reseller")
    with transaction.atomic():
        before = reseller.require_two_factor
        reseller.require_two_factor = bool(required)
        reseller.save(update_fields=["require_two_factor", "updated_at"])
        audit.record(
            "reseller.two_factor_policy",
            reseller,
            acting_user=acting_user,
            origin=origin,
            changes={"require_two_factor": [before, bool(required)]},
        )
    return reseller


def delete_reseller(reseller: Node, *, acting_user: ActingUser, origin: str) -> None:
    """Delete an empty reseller (no customers, no sub-resellers); its admin memberships go
    with it (their logins stay, without access to any reseller)."""
    if not reseller.is_reseller:
        raise ValidationError("This is not a reseller.", code="not_reseller")
    with transaction.atomic():
        lock_tree(reseller.tree_id)
        reseller = Node.objects.get(pk=reseller.pk)
        if reseller.get_descendant_count():
            raise ValidationError(
                f"{reseller.name} still has customers or sub-resellers: move or delete them first.",
                code="has_children",
            )
        # Filed under the parent, which outlives it (a top-level one: the server's log).
        audit.record(
            "reseller.deleted",
            reseller,
            acting_user=acting_user,
            origin=origin,
            reseller=reseller.parent,
            changes={"name": [reseller.name, None]},
        )
        reseller.delete()


def move_reseller(
    reseller: Node, new_parent: Node, *, acting_user: ActingUser, origin: str
) -> Node:
    """Move a sub-reseller, with everything below it, under another reseller of its tree."""
    if not reseller.is_reseller or reseller.parent_id is None:
        raise ValidationError("Only a sub-reseller can be moved.", code="not_sub_reseller")
    with transaction.atomic():
        lock_tree(reseller.tree_id)
        reseller = Node.objects.select_related("parent").get(pk=reseller.pk)
        new_parent = _reload_reseller(new_parent)
        if reseller.parent_id == new_parent.pk:
            return reseller
        if new_parent.tree_id != reseller.tree_id:
            raise ValidationError(
                {"parent": "A sub-reseller moves within its top-level reseller's tree."},
                code="other_tree",
            )
        if reseller.lft <= new_parent.lft and new_parent.rght <= reseller.rght:
            raise ValidationError(
                {"parent": f"{new_parent.name} is inside {reseller.name} itself."},
                code="inside",
            )
        return _move_and_record(
            reseller, new_parent, "reseller.moved", acting_user=acting_user, origin=origin
        )
