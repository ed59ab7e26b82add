"""`/resellers`: the key's reseller and the sub-resellers below it."""

from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from hierarchy import services
from hierarchy.access import get_reseller_for_user
from hierarchy.models import Node
from securecloud.accounts.permissions import Action, require
from securecloud.api import auth
from securecloud.api.common import (
    CREATE_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    answer,
    created,
    cursor_paginated,
    lock_for_write,
    once_per_idempotency_key,
    reseller_or_own,
)
from securecloud.api.problems import problem
from securecloud.api.schemas import ResellerIn, ResellerOut, ResellerPatch

router = Router(tags=["resellers"])

OWN_RESELLER = "An API key cannot delete its own reseller."


def _resellers(request: HttpRequest) -> Any:
    return Node.objects.visible_to(auth.actor(request)).resellers().select_related("parent")


@router.get("", response={200: list[ResellerOut], **READ_ERRORS}, summary="List resellers")
@cursor_paginated("code")
def list_resellers(request: HttpRequest) -> Any:
    require(auth.actor(request), Action.VIEW)
    return _resellers(request)


@router.post("", response={201: ResellerOut, **CREATE_ERRORS}, summary="Create a sub-reseller")
@once_per_idempotency_key
def create_reseller(request: HttpRequest, payload: ResellerIn, response: HttpResponse) -> Any:
    actor = auth.actor(request)
    parent = reseller_or_own(actor, payload.parent)
    require(actor, Action.MANAGE_RESELLERS, parent)
    reseller = services.create_reseller(
        parent, name=payload.name, acting_user=actor, origin=auth.origin(request)
    )
    return created(request, ResellerOut, reseller, response)


@router.get("/{id}", response={200: ResellerOut, **READ_ERRORS}, summary="Get a reseller")
def get_reseller(request: HttpRequest, id: UUID, response: HttpResponse) -> Any:
    actor = auth.actor(request)
    reseller = get_reseller_for_user(actor, id)
    require(actor, Action.VIEW, reseller)
    return answer(request, ResellerOut, reseller, response)


@router.patch("/{id}", response={200: ResellerOut, **WRITE_ERRORS}, summary="Rename a reseller")
def rename_reseller(
    request: HttpRequest, id: UUID, payload: ResellerPatch, response: HttpResponse
) -> Any:
    actor = auth.actor(request)
    reseller = get_reseller_for_user(actor, id)
    require(actor, Action.MANAGE_RESELLERS, reseller)
    with transaction.atomic():
        reseller = lock_for_write(request, _resellers(request), reseller, ResellerOut)
        reseller = services.rename_reseller(
            reseller, payload.name, acting_user=actor, origin=auth.origin(request)
        )
    return answer(request, ResellerOut, reseller, response)


@router.delete(
    "/{id}", response={204: None, **WRITE_ERRORS}, summary="Delete an empty sub-reseller"
)
def delete_reseller(request: HttpRequest, id: UUID) -> Any:
    actor = auth.actor(request)
    reseller = get_reseller_for_user(actor, id)
    require(actor, Action.MANAGE_RESELLERS, reseller)
    require(actor, Action.DELETE, reseller)
    if reseller.pk == actor.key.reseller_id:
        return problem(409, OWN_RESELLER)
    with transaction.atomic():
        reseller = lock_for_write(request, _resellers(request), reseller, ResellerOut)
        services.delete_reseller(reseller, acting_user=actor, origin=auth.origin(request))
    return Status(204, None)
