"""Agents waiting for approval: an agent that connects with a valid registration key and
an unknown SecureCloud ID to a customer whose auto-authorization is off is kept as a
pending request (its ID, hostname, agent version, address and time) and answered 403
`authorization_pending`. Repeated attempts update the one request; a request expires 7
days after its last attempt. An admin approves it (a Trial client with the password
the agent presented, so that its next connect succeeds) or rejects it (the request is
dropped). Every write here is audited, in the transaction of the change.
"""

from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from clients import events
from clients.models import PENDING_REQUEST_LIFETIME, Client, Event, PendingRequest
from clients.services import create_client
from hierarchy import audit
from hierarchy.actors import ActingUser
from hierarchy.models import Node

GONE = "This request is no longer pending (approved, rejected or expired meanwhile)."


def record_attempt(
    customer: Node,
    *,
    securecloud_id: str,
    password: str,
    hostname: str | None,
    agent_version: str | None,
    address: str | None,
    origin: str,
    now: datetime | None = None,
) -> tuple[PendingRequest, bool]:
    """Keep (or refresh) the request of `securecloud_id` to `customer`; True when new.

    The password is hashed before the transaction; the request keeps the last one."""
    now = now or timezone.now()
    fields = {
        "password": make_password(password),
        "hostname": hostname or "",
        "agent_version": agent_version or "",
        "address": address or None,
        "last_attempt_at": now,
    }
    for _attempt in range(2):
        with transaction.atomic():
            # Expired requests go before they could be refreshed: a new attempt after a
            # week is a new request.
            PendingRequest.objects.filter(
                last_attempt_at__lte=now - PENDING_REQUEST_LIFETIME
            ).delete()
            updated = PendingRequest.objects.filter(
                customer=customer, securecloud_id=securecloud_id
            ).update(attempts=F("attempts") + 1, **fields)
            if updated:
                return (
                    PendingRequest.objects.select_related("customer__parent").get(
                        customer=customer, securecloud_id=securecloud_id
                    ),
                    False,
                )
            try:
                with transaction.atomic():
                    request = PendingRequest.objects.create(
                        customer=customer,
                        securecloud_id=securecloud_id,
                        first_attempt_at=now,
                        **fields,
                    )
            except IntegrityError:
                continue  # a simultaneous attempt created it: update that one
            request.customer = customer
            events.emit(
                Event.Type.CLIENT_PENDING,
                customer=customer,
                data={
                    "securecloud_id": securecloud_id,
                    "hostname": request.hostname,
                    "agent_version": request.agent_version,
                    "address": request.address,
                },
                now=now,
            )
            audit.record(
                "client.pending",
                request,
                acting_user=None,
                origin=origin,
                object_type="pending request",
                changes={"securecloud_id": [None, securecloud_id]},
            )
            return request, True
    raise RuntimeError("unreachable: the request was created by a simultaneous attempt")


def pending_requests_of(customer: Node, now: datetime | None = None) -> QuerySet[PendingRequest]:
    """The customer's requests that have not expired, oldest first."""
    requests: QuerySet[PendingRequest] = (
        PendingRequest.objects.filter(customer=customer)
        .current(now)
        .order_by("first_attempt_at", "pk")
    )
    return requests


def _locked(request: PendingRequest) -> PendingRequest:
    try:
        locked: PendingRequest = (
            PendingRequest.objects.current()
            .select_for_update(of=("self",))
            .select_related("customer__parent")
            .get(pk=request.pk)
        )
    except PendingRequest.DoesNotExist:
        raise ValidationError(GONE, code="gone") from None
    return locked


def approve_request(request: PendingRequest, *, acting_user: ActingUser, origin: str) -> Client:
    """A Trial client with the ID and the password the agent presented; the request is
    gone. Refused (ValidationError) when the ID was taken meanwhile."""
    with transaction.atomic():
        request = _locked(request)
        client = create_client(
            request.customer,
            securecloud_id=request.securecloud_id,
            password_hash=request.password,
            acting_user=acting_user,
            origin=origin,
            audit_action="client.approved",
        )
        if request.hostname or request.agent_version:
            client.hostname, client.agent_version = request.hostname, request.agent_version
            client.save(update_fields=["hostname", "agent_version", "updated_at"])
        request.delete()
    return client


def reject_request(request: PendingRequest, *, acting_user: ActingUser, origin: str) -> None:
    """Drop the request; the agent's next attempt makes a new one."""
    with transaction.atomic():
        request = _locked(request)
        audit.record(
            "client.rejected",
            request,
            acting_user=acting_user,
            origin=origin,
            object_type="pending request",
            changes={"securecloud_id": [request.securecloud_id, None]},
        )
        request.delete()
