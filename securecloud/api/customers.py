"""`/customers`: the customers of the key's subtree, and their two actions."""

from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status

from hierarchy import services
from hierarchy.access import get_customer_for_user, get_reseller_for_user
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
from securecloud.api.schemas import (
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    EmailQueued,
    RegistrationKeyOut,
)
from securecloud.mail import emails
from securecloud.site import site_url

router = Router(tags=["customers"])


class CustomerFilters(Schema):
    reseller: UUID | None = None
    name: str | None = None


def _customers(request: HttpRequest) -> Any:
    return Node.objects.visible_to(auth.actor(request)).customers().select_related("parent")


def _settings(payload: Schema, *, exclude_unset: bool) -> dict[str, Any]:
    fields = payload.model_dump(exclude_unset=exclude_unset)
    fields.pop("reseller", None)
    if "auto_authorization" in fields:
        fields["auto_add_clients"] = fields.pop("auto_authorization")
    return fields


@router.get("", response={200: list[CustomerOut], **READ_ERRORS}, summary="List customers")
@cursor_paginated("code")
def list_customers(request: HttpRequest, filters: Query[CustomerFilters]) -> Any:
    actor = auth.actor(request)
    require(actor, Action.VIEW)
    customers = _customers(request)
    if filters.reseller:
        customers = customers.filter(parent=get_reseller_for_user(actor, filters.reseller))
    if filters.name:
        customers = customers.filter(name__icontains=filters.name)
    return customers


@router.post("", response={201: CustomerOut, **CREATE_ERRORS}, summary="Create a customer")
@once_per_idempotency_key
def create_customer(request: HttpRequest, payload: CustomerIn, response: HttpResponse) -> Any:
    actor = auth.actor(request)
    reseller = reseller_or_own(actor, payload.reseller)
    require(actor, Action.MANAGE_CUSTOMERS, reseller)
    customer = services.create_customer(
        reseller,
        acting_user=actor,
        origin=auth.origin(request),
        **_settings(payload, exclude_unset=False),
    )
    return created(request, CustomerOut, customer, response)


@router.get("/{id}", response={200: CustomerOut, **READ_ERRORS}, summary="Get a customer")
def get_customer(request: HttpRequest, id: UUID, response: HttpResponse) -> Any:
    actor = auth.actor(request)
    customer = get_customer_for_user(actor, id)
    require(actor, Action.VIEW, customer)
    return answer(request, CustomerOut, customer, response)


@router.patch(
    "/{id}", response={200: CustomerOut, **WRITE_ERRORS}, summary="Change a customer's settings"
)
def update_customer(
    request: HttpRequest, id: UUID, payload: CustomerPatch, response: HttpResponse
) -> Any:
    actor = auth.actor(request)
    customer = get_customer_for_user(actor, id)
    require(actor, Action.MANAGE_CUSTOMERS, customer)
    with transaction.atomic():
        customer = lock_for_write(request, _customers(request), customer, CustomerOut)
        customer = services.update_customer(
            customer,
            acting_user=actor,
            origin=auth.origin(request),
            **_settings(payload, exclude_unset=True),
        )
    return answer(request, CustomerOut, customer, response)


@router.delete(
    "/{id}", response={204: None, **WRITE_ERRORS}, summary="Delete a customer with no clients"
)
def delete_customer(request: HttpRequest, id: UUID) -> Any:
    actor = auth.actor(request)
    customer = get_customer_for_user(actor, id)
    require(actor, Action.DELETE, customer)
    with transaction.atomic():
        customer = lock_for_write(request, _customers(request), customer, CustomerOut)
        services.delete_customer(customer, acting_user=actor, origin=auth.origin(request))
    return Status(204, None)


@router.post(
    "/{id}/regenerate-registration-key",
    response={200: RegistrationKeyOut, **CREATE_ERRORS},
    summary="Make a new registration key (the old one stops working)",
)
@once_per_idempotency_key
def regenerate_registration_key(request: HttpRequest, id: UUID) -> Any:
    actor = auth.actor(request)
    customer = get_customer_for_user(actor, id)
    require(actor, Action.MANAGE_CUSTOMERS, customer)
    customer = services.regenerate_registration_key(
        customer, acting_user=actor, origin=auth.origin(request)
    )
    return {"registration_key": customer.registration_key}


@router.post(
    "/{id}/send-welcome-email",
    response={202: EmailQueued, **CREATE_ERRORS},
    summary="Send the welcome email to the customer's contact",
)
@once_per_idempotency_key
def send_welcome_email(request: HttpRequest, id: UUID) -> Any:
    actor = auth.actor(request)
    customer = get_customer_for_user(actor, id)
    require(actor, Action.SEND_EMAILS, customer)
    delivery = emails.queue_welcome_email(
        customer, acting_user=actor, origin=auth.origin(request), site_url=site_url(request)
    )
    return Status(202, {"recipient": delivery.recipient, "status": delivery.status})
