"""`/webhooks`: a reseller's webhooks (events of its whole subtree, POSTed signed to a
URL), their recent deliveries and a test send, through the same services as the
Webhooks page. An Administrator's setting, as on the page; secrets are never shown."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from hierarchy.access import get_reseller_for_user
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
from securecloud.api.schemas import STRICT
from securecloud.events import webhooks
from securecloud.events.access import get_webhook_for_user
from securecloud.events.models import Webhook, WebhookDelivery

router = Router(tags=["webhooks"])


class WebhookOut(Schema):
    id: UUID
    reseller: UUID
    url: str
    event_types: list[str]
    enabled: bool
    consecutive_failures: int
    disabled_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_id(obj: Webhook) -> Any:
        return obj.code

    @staticmethod
    def resolve_reseller(obj: Webhook) -> Any:
        return obj.reseller.code


class WebhookIn(Schema):
    model_config = STRICT

    reseller: UUID | None = Field(None, description="Default: the key's reseller")
    url: str = Field(..., max_length=2000, description="https; no internal address")
    secret: str = Field(..., max_length=1000, description="Signs each body (HMAC-SHA256)")
    event_types: list[str] | None = Field(None, description="None or empty: every type")


class WebhookPatch(Schema):
    model_config = STRICT

    url: str | None = Field(None, max_length=2000)
    secret: str | None = Field(None, max_length=1000)
    event_types: list[str] | None = None
    enabled: bool | None = None


class DeliveryOut(Schema):
    id: UUID
    event_id: UUID
    event_type: str
    status: WebhookDelivery.Status
    attempts: int
    status_code: int | None
    error: str
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None

    @staticmethod
    def resolve_id(obj: WebhookDelivery) -> Any:
        return obj.code

    @staticmethod
    def resolve_event_id(obj: WebhookDelivery) -> Any:
        return obj.event_code


class WebhookFilters(Schema):
    reseller: UUID | None = None


def _webhooks(request: HttpRequest) -> Any:
    return Webhook.objects.visible_to(auth.actor(request)).select_related("reseller")


def _webhook(request: HttpRequest, id: UUID) -> Webhook:
    actor = auth.actor(request)
    webhook = get_webhook_for_user(actor, id)
    require(actor, Action.MANAGE_SETTINGS, webhook.reseller)
    return webhook


@router.get("", response={200: list[WebhookOut], **READ_ERRORS}, summary="List webhooks")
@cursor_paginated("code")
def list_webhooks(request: HttpRequest, filters: Query[WebhookFilters]) -> Any:
    actor = auth.actor(request)
    require(actor, Action.MANAGE_SETTINGS)
    hooks = _webhooks(request)
    if filters.reseller:
        hooks = hooks.filter(reseller=get_reseller_for_user(actor, filters.reseller))
    return hooks


@router.post("", response={201: WebhookOut, **CREATE_ERRORS}, summary="Add a webhook")
@once_per_idempotency_key
def create_webhook(request: HttpRequest, payload: WebhookIn, response: HttpResponse) -> Any:
    actor = auth.actor(request)
    reseller = reseller_or_own(actor, payload.reseller)
    require(actor, Action.MANAGE_SETTINGS, reseller)
    webhook = webhooks.create_webhook(
        reseller,
        url=payload.url,
        secret=payload.secret,
        event_types=payload.event_types,
        acting_user=actor,
        origin=auth.origin(request),
    )
    return created(request, WebhookOut, webhook, response)


@router.get("/{id}", response={200: WebhookOut, **READ_ERRORS}, summary="Get a webhook")
def get_webhook(request: HttpRequest, id: UUID, response: HttpResponse) -> Any:
    return answer(request, WebhookOut, _webhook(request, id), response)


@router.patch(
    "/{id}",
    response={200: WebhookOut, **WRITE_ERRORS},
    summary="Change a webhook (its URL, secret, event types, or switch it on or off)",
)
def update_webhook(
    request: HttpRequest, id: UUID, payload: WebhookPatch, response: HttpResponse
) -> Any:
    webhook = _webhook(request, id)
    with transaction.atomic():
        webhook = lock_for_write(request, _webhooks(request), webhook, WebhookOut)
        webhook = webhooks.update_webhook(
            webhook,
            **payload.model_dump(exclude_unset=True),
            acting_user=auth.actor(request),
            origin=auth.origin(request),
        )
    return answer(request, WebhookOut, webhook, response)


@router.delete("/{id}", response={204: None, **WRITE_ERRORS}, summary="Delete a webhook")
def delete_webhook(request: HttpRequest, id: UUID) -> Any:
    webhook = _webhook(request, id)
    with transaction.atomic():
        webhook = lock_for_write(request, _webhooks(request), webhook, WebhookOut)
        webhooks.delete_webhook(
            webhook, acting_user=auth.actor(request), origin=auth.origin(request)
        )
    return Status(204, None)


@router.get(
    "/{id}/deliveries",
    response={200: list[DeliveryOut], **READ_ERRORS},
    summary="A webhook's recent deliveries, newest first",
)
def deliveries(request: HttpRequest, id: UUID) -> Any:
    return webhooks.recent_deliveries(_webhook(request, id))


@router.post(
    "/{id}/test",
    response={200: DeliveryOut, **CREATE_ERRORS},
    summary="Send a test event now (one attempt, recorded among the deliveries)",
)
@once_per_idempotency_key
def send_test(request: HttpRequest, id: UUID) -> Any:
    webhook = _webhook(request, id)
    return webhooks.send_test(webhook, acting_user=auth.actor(request), origin=auth.origin(request))
