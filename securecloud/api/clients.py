"""`/clients`: the clients of the key's subtree, and what the console does to them."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status

from clients import services
from clients.access import get_client_for_user
from clients.models import Client, silent_since_q
from hierarchy.access import get_customer_for_user
from securecloud.accounts.permissions import Action, require
from securecloud.api import auth
from securecloud.api.common import (
    ACTION_ERRORS,
    CREATE_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    answer,
    created,
    cursor_paginated,
    lock_for_write,
    once_per_idempotency_key,
)
from securecloud.api.schemas import (
    ClientIn,
    ClientOut,
    ClientPatch,
    ExtendTrialIn,
    MoveIn,
    PasswordIn,
)

router = Router(tags=["clients"])


class ClientFilters(Schema):
    customer: UUID | None = None
    plan: Client.Plan | None = None
    status: Client.Status | None = None
    last_backup_status: Client.BackupStatus | None = None
    no_success_since: datetime | None = None


# What ClientOut reads: a page of clients loads these columns only (not the password hash),
# and its customer's code alone, beside it (not a customer object per row: building 100
# tree nodes cost a quarter of a page).
SHOWN_FIELDS = (
    *(name for name in ClientOut.model_fields if name not in {"id", "customer"}),
    "id",
    "code",
    "customer_id",
)


def _clients(request: HttpRequest) -> Any:
    return (
        Client.objects.visible_to(auth.actor(request))
        .only(*SHOWN_FIELDS)
        .annotate(customer_code=F("customer__code"))
    )


@router.get("", response={200: list[ClientOut], **READ_ERRORS}, summary="List clients")
# In the order rows were added: both databases walk the primary key and stop after a page
# (ordered by code, SQLite sorted a 100,000-client tree for each page). The cursor names
# a row's place in that order, not an object: ids stay the UUIDs.
@cursor_paginated("id")
def list_clients(request: HttpRequest, filters: Query[ClientFilters]) -> Any:
    actor = auth.actor(request)
    require(actor, Action.VIEW)
    clients = _clients(request)
    if filters.customer:
        clients = clients.filter(customer=get_customer_for_user(actor, filters.customer))
    if filters.plan:
        clients = clients.filter(plan=filters.plan)
    if filters.status:
        clients = clients.filter(status=filters.status)
    if filters.last_backup_status:
        clients = clients.filter(last_backup_status=filters.last_backup_status)
    if filters.no_success_since:
        clients = clients.filter(silent_since_q(filters.no_success_since))
    return clients


@router.post("", response={201: ClientOut, **CREATE_ERRORS}, summary="Add a client")
@once_per_idempotency_key
def create_client(request: HttpRequest, payload: ClientIn, response: HttpResponse) -> Any:
    actor = auth.actor(request)
    customer = get_customer_for_user(actor, payload.customer)
    require(actor, Action.ADD_CLIENTS, customer)
    client = services.create_client(
        customer,
        securecloud_id=payload.securecloud_id,
        password=payload.password or None,
        name=payload.name,
        email=payload.email,
        acting_user=actor,
        origin=auth.origin(request),
    )
    return created(request, ClientOut, client, response)


@router.get("/{id}", response={200: ClientOut, **READ_ERRORS}, summary="Get a client")
def get_client(request: HttpRequest, id: UUID, response: HttpResponse) -> Any:
    actor = auth.actor(request)
    client = get_client_for_user(actor, id)
    require(actor, Action.VIEW, client)
    return answer(request, ClientOut, client, response)


def _locked(request: HttpRequest, id: UUID, action: Action) -> Client:
    """The client for a write (inside the caller's transaction): scoped, the role
    checked, read again under its row lock, If-Match checked."""
    actor = auth.actor(request)
    client = get_client_for_user(actor, id)
    require(actor, action, client)
    locked: Client = lock_for_write(request, _clients(request), client, ClientOut)
    return locked


@router.patch(
    "/{id}", response={200: ClientOut, **WRITE_ERRORS}, summary="Change a client's name or email"
)
def update_client(
    request: HttpRequest, id: UUID, payload: ClientPatch, response: HttpResponse
) -> Any:
    with transaction.atomic():
        client = _locked(request, id, Action.MANAGE_CLIENTS)
        changes = payload.model_dump(exclude_unset=True)
        client = services.update_client(
            client,
            name=changes.get("name", client.name) or "",
            email=changes.get("email", client.email) or "",
            acting_user=auth.actor(request),
            origin=auth.origin(request),
        )
    return answer(request, ClientOut, client, response)


@router.delete("/{id}", response={204: None, **WRITE_ERRORS}, summary="Delete a client")
def delete_client(request: HttpRequest, id: UUID) -> Any:
    with transaction.atomic():
        client = _locked(request, id, Action.DELETE)
        services.delete_client(client, acting_user=auth.actor(request), origin=auth.origin(request))
    return Status(204, None)


def _action(path: str, summary: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A POST action on one client, answering the client as it is after it."""
    return router.post(path, response={200: ClientOut, **ACTION_ERRORS}, summary=summary)


def _act(
    request: HttpRequest,
    id: UUID,
    response: HttpResponse,
    action: Action,
    write: Callable[..., Client],
    *args: Any,
) -> Any:
    """One write to one client in one transaction (scoped, role checked, locked,
    If-Match checked), answered with the client as it is after it."""
    with transaction.atomic():
        client = _locked(request, id, action)
        client = write(client, *args, acting_user=auth.actor(request), origin=auth.origin(request))
    return answer(request, ClientOut, client, response)


@_action("/{id}/switch-to-paid", "Switch a client from Trial to Paid")
@once_per_idempotency_key
def switch_to_paid(request: HttpRequest, id: UUID, response: HttpResponse) -> Any:
    return _act(request, id, response, Action.MANAGE_CLIENTS, services.switch_to_paid)


@_action("/{id}/extend-trial", "Extend a client's trial by a number of days")
@once_per_idempotency_key
def extend_trial(
    request: HttpRequest, id: UUID, payload: ExtendTrialIn, response: HttpResponse
) -> Any:
    return _act(request, id, response, Action.MANAGE_CLIENTS, services.extend_trial, payload.days)


@_action("/{id}/disable", "Disable a client (its agents are signed out)")
@once_per_idempotency_key
def disable_client(request: HttpRequest, id: UUID, response: HttpResponse) -> Any:
    return _act(request, id, response, Action.MANAGE_CLIENTS, services.disable_client)


@_action("/{id}/enable", "Enable a disabled client")
@once_per_idempotency_key
def enable_client(request: HttpRequest, id: UUID, response: HttpResponse) -> Any:
    return _act(request, id, response, Action.MANAGE_CLIENTS, services.enable_client)


@_action("/{id}/reset-password", "Set a client's password (its agents must connect again)")
@once_per_idempotency_key
def reset_password(
    request: HttpRequest, id: UUID, payload: PasswordIn, response: HttpResponse
) -> Any:
    return _act(
        request, id, response, Action.ADD_CLIENTS, services.set_client_password, payload.password
    )


@_action("/{id}/move", "Move a client to another customer")
@once_per_idempotency_key
def move_client(request: HttpRequest, id: UUID, payload: MoveIn, response: HttpResponse) -> Any:
    target = get_customer_for_user(auth.actor(request), payload.customer)
    return _act(request, id, response, Action.MANAGE_CLIENTS, services.move_client, target)
