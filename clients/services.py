"""Writes to client accounts: the only path that the console, the Django admin, the
imports and the agent API use. Each takes the acting user (None for an agent or a
command) and the origin as required keyword arguments for the audit log.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from clients import events
from clients.models import AgentRefreshToken, AgentToken, Client, Event
from clients.validators import normalise_securecloud_id, validate_client_password
from hierarchy import audit
from hierarchy.actors import ActingUser
from hierarchy.models import Node
from hierarchy.validators import clean_email_address, clean_name

MAX_TRIAL_EXTENSION_DAYS = 3650
CLIENT_FIELDS = ("securecloud_id", "name", "email", "plan", "trial_ends_at", "status")
ID_TAKEN = "This SecureCloud ID is already taken. Choose another (an email address is safest)."
PASSWORD_REQUIRED = "Since Auto-Authorization is turned off, you must enter a password."


def securecloud_id_taken(securecloud_id: str, exclude_pk: int | None = None) -> bool:
    """Across every customer of every reseller (IDs are stored normalised)."""
    qs = Client.objects.filter(securecloud_id=securecloud_id)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    if email:
        try:
            email = clean_email_address(email)
        except ValidationError as exc:
            raise ValidationError({"email": exc.messages}) from None
    return email


def _clean_display_name(name: str) -> str:
    return clean_name(name, required=False)


def status_when_enabled(client: Client) -> str:
    """The status of a client that is not disabled: active once an agent of it has
    connected (last_seen_at), pending until then. The one pending → active rule: an
    agent's connect and enabling a client both ask it."""
    return Client.Status.ACTIVE if client.last_seen_at else Client.Status.PENDING


def revoke_agent_tokens(client: Client) -> None:
    """Every agent token and refresh token of this client stops working (disable,
    delete, password reset): its agents must connect with the password again. Moving a
    client to another customer revokes nothing (its agents keep working, as before)."""
    revoke_agent_tokens_of([client.pk])


def clean_new_client(
    customer: Node,
    *,
    securecloud_id: str,
    password: str | None = None,
    name: str = "",
    email: str = "",
    check_taken: bool = True,
    has_password_hash: bool = False,
) -> dict[str, Any]:
    """Validate a new client's fields; the console, the admin and the imports share it.

    Returns the cleaned values (normalised SecureCloud ID) or raises a ValidationError
    keyed by field.
    """
    if not customer.is_customer:
        raise ValidationError({"customer": "Clients belong to a customer."})
    errors: dict[str, list[str]] = {}
    try:
        securecloud_id = normalise_securecloud_id(securecloud_id)
    except ValidationError as exc:
        errors["securecloud_id"] = exc.messages
    try:
        name = _clean_display_name(name)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        email = _clean_email(email)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if password:
        try:
            validate_client_password(password)
        except ValidationError as exc:
            errors["password"] = exc.messages
    elif not customer.auto_add_clients and not has_password_hash:
        errors["password"] = [PASSWORD_REQUIRED]
    if check_taken and "securecloud_id" not in errors and securecloud_id_taken(securecloud_id):
        errors["securecloud_id"] = [ID_TAKEN]
    if errors:
        raise ValidationError(errors)
    return {"securecloud_id": securecloud_id, "name": name, "email": email}


def create_client(
    customer: Node,
    *,
    securecloud_id: str,
    password: str | None = None,
    name: str = "",
    email: str = "",
    acting_user: ActingUser,
    origin: str,
    status: str = Client.Status.PENDING,
    password_hash: str = "",
    audit_action: str = "client.created",
) -> Client:
    """A new Trial client under `customer`.

    A password is required when the customer's auto-authorization is off; when it is
    on, the agent sets the password at its first connect. `password_hash`: a password
    already hashed (the one an agent presented while it waited for approval).
    """
    cleaned = clean_new_client(
        customer,
        securecloud_id=securecloud_id,
        password=password,
        name=name,
        email=email,
        has_password_hash=bool(password_hash),
    )
    now = timezone.now()
    client = Client(
        customer=customer,
        **cleaned,
        password=make_password(password) if password else password_hash,
        plan=Client.Plan.TRIAL,
        trial_ends_at=trial_end(now, customer.trial_days),
        status=status,
    )
    try:
        with transaction.atomic():
            client.save()
            _shift_customer_totals(customer.pk, clients=1)
            # Agents that auto-add themselves act with no user: the origin names them.
            events.emit(
                Event.Type.CLIENT_APPROVED
                if audit_action == "client.approved"
                else Event.Type.CLIENT_ADDED,
                customer=customer,
                client=client,
                data={"origin": origin.split(" ", 1)[0]},
            )
            audit.record(
                audit_action,
                client,
                acting_user=acting_user,
                origin=origin,
                changes={
                    field: [None, value]
                    for field, value in audit.snapshot(client, CLIENT_FIELDS).items()
                },
            )
    except IntegrityError as exc:
        # Lost a race with another writer of the same ID.
        raise ValidationError({"securecloud_id": [ID_TAKEN]}) from exc
    return client


def update_client(
    client: Client, *, name: str, email: str, acting_user: ActingUser, origin: str
) -> Client:
    name = _clean_display_name(name)
    email = _clean_email(email)
    with transaction.atomic():
        before = audit.snapshot(client, ("name", "email"))
        client.name, client.email = name, email
        changes = audit.changes_between(before, {"name": name, "email": email})
        if changes:
            client.save(update_fields=["name", "email", "updated_at"])
            audit.record(
                "client.edited", client, acting_user=acting_user, origin=origin, changes=changes
            )
    return client


def switch_to_paid(client: Client, *, acting_user: ActingUser, origin: str) -> Client:
    """Trial → Paid. Paid clients never expire."""
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        if client.plan == Client.Plan.PAID:
            return client
        before = audit.snapshot(client, ("plan", "trial_ends_at"))
        client.plan = Client.Plan.PAID
        client.trial_ends_at = None
        client.save(update_fields=["plan", "trial_ends_at", "updated_at"])
        audit.record(
            "client.switched_to_paid",
            client,
            acting_user=acting_user,
            origin=origin,
            changes=audit.changes_between(
                before, audit.snapshot(client, ("plan", "trial_ends_at"))
            ),
        )
    return client


def extend_trial(client: Client, days: int, *, acting_user: ActingUser, origin: str) -> Client:
    """Push a trial's end back by `days` (from now if it has already ended)."""
    if not isinstance(days, int) or not 1 <= days <= MAX_TRIAL_EXTENSION_DAYS:
        raise ValidationError(
            {"days": f"Enter a number of days from 1 to {MAX_TRIAL_EXTENSION_DAYS}."}
        )
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        if client.plan != Client.Plan.TRIAL:
            raise ValidationError("Only a trial client's trial can be extended.", code="paid")
        before = audit.snapshot(client, ("trial_ends_at",))
        assert client.trial_ends_at is not None  # every trial has an end
        start = max(client.trial_ends_at, timezone.now())
        client.trial_ends_at = start + timedelta(days=days)
        client.save(update_fields=["trial_ends_at", "updated_at"])
        audit.record(
            "client.trial_extended",
            client,
            acting_user=acting_user,
            origin=origin,
            changes=audit.changes_between(before, audit.snapshot(client, ("trial_ends_at",))),
        )
    return client


def set_client_password(
    client: Client, password: str, *, acting_user: ActingUser, origin: str
) -> Client:
    """Reset a client's password; its agents must connect again with the new one."""
    try:
        validate_client_password(password or "")
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    with transaction.atomic():
        client.password = make_password(password)
        client.save(update_fields=["password", "updated_at"])
        revoke_agent_tokens(client)
        # Never the hash itself: only that the password changed.
        audit.record("client.password_reset", client, acting_user=acting_user, origin=origin)
    return client


def disable_client(client: Client, *, acting_user: ActingUser, origin: str) -> Client:
    with transaction.atomic():
        client = Client.objects.select_for_update().select_related("customer").get(pk=client.pk)
        before = client.status
        if before == Client.Status.DISABLED:
            return client
        client.status = Client.Status.DISABLED
        client.save(update_fields=["status", "updated_at"])
        revoke_agent_tokens(client)
        events.emit(Event.Type.CLIENT_DISABLED, customer=client.customer, client=client)
        audit.record(
            "client.disabled",
            client,
            acting_user=acting_user,
            origin=origin,
            changes={"status": [before, client.status]},
        )
    return client


def enable_client(client: Client, *, acting_user: ActingUser, origin: str) -> Client:
    """Back to active if it has ever connected, else pending."""
    with transaction.atomic():
        client = Client.objects.select_for_update().select_related("customer").get(pk=client.pk)
        before = client.status
        if before != Client.Status.DISABLED:
            return client
        client.status = status_when_enabled(client)
        client.save(update_fields=["status", "updated_at"])
        audit.record(
            "client.enabled",
            client,
            acting_user=acting_user,
            origin=origin,
            changes={"status": [before, client.status]},
        )
    return client


def move_client(client: Client, customer: Node, *, acting_user: ActingUser, origin: str) -> Client:
    """Move a client to another customer; the storage it uses moves with it."""
    if not customer.is_customer:
        raise ValidationError({"customer": "Clients belong to a customer."})
    if client.customer_id == customer.pk:
        return client
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        old_customer = client.customer
        client.customer = customer
        client.save(update_fields=["customer", "updated_at"])
        _shift_customer_totals(old_customer.pk, clients=-1, used_bytes=-client.used_bytes)
        _shift_customer_totals(customer.pk, clients=1, used_bytes=client.used_bytes)
        audit.record(
            "client.moved",
            client,
            acting_user=acting_user,
            origin=origin,
            changes={"customer": [old_customer.name, customer.name]},
        )
    return client


def delete_client(client: Client, *, acting_user: ActingUser, origin: str) -> None:
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        revoke_agent_tokens(client)
        _shift_customer_totals(client.customer_id, clients=-1, used_bytes=-client.used_bytes)
        audit.record(
            "client.deleted",
            client,
            acting_user=acting_user,
            origin=origin,
            changes={
                field: [value, None]
                for field, value in audit.snapshot(client, CLIENT_FIELDS).items()
            },
        )
        client.delete()


def _shift_customer_totals(customer_id: int, *, clients: int = 0, used_bytes: int = 0) -> None:
    """Move a customer's client count and storage used by a delta, in the database (F()),
    so that concurrent writers never lose each other's changes."""
    shift_customer_totals({customer_id: (clients, used_bytes)})


# --------------------------------------------------------------------------- shared rules
# The one-object services above and the bulk writes (clients.bulk_services) share these.

TOTALS_CHUNK = 900  # customers per UPDATE (under SQLite's old 999-variable limit)


def trial_end(now: datetime, trial_days: int) -> datetime:
    """When a trial that starts `now` ends, for a customer whose trials last `trial_days`."""
    return now + timedelta(days=trial_days)


def revoke_agent_tokens_of(client_ids: Iterable[int]) -> None:
    """Every agent token and refresh token of these clients stops working."""
    ids = list(client_ids)
    for start in range(0, len(ids), TOTALS_CHUNK):
        chunk = ids[start : start + TOTALS_CHUNK]
        AgentToken.objects.filter(client_id__in=chunk).delete()
        AgentRefreshToken.objects.filter(client_id__in=chunk).delete()


def shift_customer_totals(deltas: Mapping[int, tuple[int, int]]) -> None:
    """Move customers' client counts and storage used by deltas, {customer pk: (clients,
    bytes)}, in the database (F()), so that concurrent writers never lose each other's
    changes: one UPDATE per distinct delta (and per chunk of customers)."""
    by_delta: dict[tuple[int, int], list[int]] = {}
    for customer_id, delta in deltas.items():
        if delta[0] or delta[1]:
            by_delta.setdefault(delta, []).append(customer_id)
    for (clients, used_bytes), ids in by_delta.items():
        changes: dict[str, Any] = {}
        if clients:
            changes["client_count"] = F("client_count") + clients
        if used_bytes:
            changes["used_bytes"] = F("used_bytes") + used_bytes
        for start in range(0, len(ids), TOTALS_CHUNK):
            chunk = ids[start : start + TOTALS_CHUNK]
            if len(chunk) == 1:
                Node.objects.filter(pk=chunk[0]).update(**changes)
            else:
                Node.objects.filter(pk__in=chunk).update(**changes)
