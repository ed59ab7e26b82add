"""The agent's connect: an agent signs in with its client's SecureCloud ID and password
(or claims a client, or adds one, with its customer's registration key) and gets a
bearer token and a refresh token (clients.agent_refresh). Connect decides in this
order: validate the request, a slot in the connect queue (clients.connect_queue), rate
limit, credentials, client state (see `connect`).
"""

import hmac
import ipaddress
from dataclasses import dataclass
from typing import Any, NoReturn

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients import connect_queue, pending, ratelimit
from clients.agent_requests import (
    INVALID_CREDENTIALS,
    AgentError,
    ConnectRequest,
    invalid_request,
    parse_connect,
)
from clients.agent_tokens import (
    check_client_state,
    client_summary,
    issue_refresh_token,
    issue_token,
)
from clients.models import Client
from clients.services import create_client, status_when_enabled
from clients.validators import validate_client_password
from hierarchy import audit
from hierarchy.models import Node

AGENT_ORIGIN = "agent"


@dataclass(frozen=True)
class ConnectResult:
    created: bool
    body: dict[str, Any]


def _customer_for_key(key: str | None) -> Node | None:
    if not key:
        return None
    try:
        customer: Node = Node.objects.select_related("parent").get(
            kind=Node.Kind.CUSTOMER, registration_key=key
        )
    except Node.DoesNotExist:
        return None
    # The lookup found it by the indexed column; still compare in constant time.
    if not customer.registration_key or not hmac.compare_digest(
        customer.registration_key.encode(), key.encode()
    ):
        return None
    return customer


def _bad_credentials(req: ConnectRequest, *, hash_anyway: bool) -> AgentError:
    if hash_anyway:
        # As slow as a real password check, so timing does not tell whether the ID exists.
        make_password(req.password)
    return AgentError(*INVALID_CREDENTIALS)


def connect(data: Any, *, ip: str) -> ConnectResult:
    """Rules 1-6 of the protocol, in order: validate, queue, rate limit, credentials, state.

    Runs outside any transaction: a failure is counted after the work of the attempt
    is rolled back, so the count always sticks.
    """
    req = parse_connect(data)
    # Every path below may hash a password (~100 ms of CPU): wait for a slot, or answer
    # 503 with Retry-After before spending anything.
    with connect_queue.slot():
        return _limited_connect(req, ip)


def _limited_connect(req: ConnectRequest, ip: str) -> ConnectResult:
    attempt = ratelimit.begin(req.securecloud_id, ip)
    if isinstance(attempt, ratelimit.Limited):
        raise AgentError(429, "rate_limited", headers={"Retry-After": str(attempt.retry_after)})

    # The attempt is counted already (check and count are one step); it is taken back
    # unless its credentials turn out wrong.
    failed = False
    try:
        return _connect(req, ip)
    except AgentError as exc:
        if (exc.status, exc.code) == INVALID_CREDENTIALS:
            failed = True
            ratelimit.failed(attempt)
            raise credentials_error(req) from None
        raise
    finally:
        if not failed:
            ratelimit.succeeded(attempt)


NO_KEY_MESSAGE = (
    "Wrong SecureCloud ID or password. A registration key is required for a new or not "
    "yet connected client, and none was given: enter the customer's registration key."
)
WITH_KEY_MESSAGE = "Wrong SecureCloud ID, password or registration key."


def credentials_error(req: ConnectRequest) -> AgentError:
    """The one 401 of every credentials failure. Its message depends only on the request
    (was a registration key given?), never on whether the SecureCloud ID exists."""
    message = WITH_KEY_MESSAGE if req.registration_key else NO_KEY_MESSAGE
    return AgentError(*INVALID_CREDENTIALS, message=message)


def _connect(req: ConnectRequest, ip: str) -> ConnectResult:
    for _attempt in range(3):
        client = (
            Client.objects.select_related("customer__parent")
            .filter(securecloud_id=req.securecloud_id)
            .first()
        )
        if client is not None:
            return _connect_known(client, req, ip)
        created = _connect_new(req, ip)
        if created is not None:
            return created
        # Another connect created this ID meanwhile: decide again as a known client.
    raise AgentError(*INVALID_CREDENTIALS)


def _connect_known(client: Client, req: ConnectRequest, ip: str) -> ConnectResult:
    if client.password:
        # Rule 1: the password must match (hashed once, outside any lock).
        checked_hash = client.password
        if not check_password(req.password, checked_hash):
            raise _bad_credentials(req, hash_anyway=False)
        check_client_state(client)
        with transaction.atomic():
            client = _lock(client)  # type: ignore[assignment]
            if client is None:  # deleted meanwhile
                raise _bad_credentials(req, hash_anyway=False)
            if client.password != checked_hash and not (
                client.password and check_password(req.password, client.password)
            ):
                raise _bad_credentials(req, hash_anyway=False)  # reset meanwhile
            check_client_state(client)
            return _connected(client, req, set_password=False)

    # Rule 2: no password yet; only its own customer's registration key claims it.
    customer = _customer_for_key(req.registration_key)
    if customer is None or customer.pk != client.customer_id:
        raise _bad_credentials(req, hash_anyway=True)
    if not customer.auto_add_clients:
        raise AgentError(403, "authorization_required")
    check_client_state(client)
    try:
        validate_client_password(req.password)
    except ValidationError as exc:
        raise invalid_request({"password": exc.messages[0]}) from None
    hashed = make_password(req.password)
    with transaction.atomic():
        client = _lock(client)  # type: ignore[assignment]
        if client is None:
            raise _bad_credentials(req, hash_anyway=False)
        if client.password:
            # A concurrent first connect set the password: it must match now.
            if not check_password(req.password, client.password):
                raise _bad_credentials(req, hash_anyway=False)
            check_client_state(client)
            return _connected(client, req, set_password=False)
        check_client_state(client)
        client.password = hashed
        before = client.status
        result = _connected(client, req, set_password=True)
        audit.record(
            "client.claimed_by_agent",
            client,
            acting_user=None,
            origin=f"{AGENT_ORIGIN} {ip}",
            changes={"password": ["not set", "set"], "status": [before, client.status]},
        )
        return result


def _connect_new(req: ConnectRequest, ip: str) -> ConnectResult | None:
    """Rule 3, or None when the ID was created by someone else meanwhile. Under a
    customer whose auto-authorization is off, the attempt waits for approval."""
    customer = _customer_for_key(req.registration_key)
    if customer is None:
        raise _bad_credentials(req, hash_anyway=True)
    if not customer.auto_add_clients:
        _wait_for_approval(customer, req, ip)
    try:
        with transaction.atomic():
            client = create_client(
                customer,
                securecloud_id=req.securecloud_id,
                password=req.password,
                acting_user=None,
                origin=f"{AGENT_ORIGIN} {ip}",
                status=Client.Status.ACTIVE,
            )
            client.customer = customer
            check_client_state(client)
            result = _connected(client, req, set_password=False)
    except ValidationError as exc:
        if "securecloud_id" in getattr(exc, "message_dict", {}):
            return None
        raise invalid_request(
            {name: messages[0] for name, messages in exc.message_dict.items()}
        ) from None
    return ConnectResult(created=True, body=result.body)


def _wait_for_approval(customer: Node, req: ConnectRequest, ip: str) -> NoReturn:
    """Keep the attempt as a pending request (one per ID, refreshed on every attempt),
    then refuse with 403 authorization_pending."""
    try:
        validate_client_password(req.password)
    except ValidationError as exc:
        raise invalid_request({"password": exc.messages[0]}) from None
    pending.record_attempt(
        customer,
        securecloud_id=req.securecloud_id,
        password=req.password,
        hostname=req.hostname,
        agent_version=req.agent_version,
        address=_address(ip),
        origin=f"{AGENT_ORIGIN} {ip}",
    )
    raise AgentError(403, "authorization_pending")


def _address(ip: str) -> str | None:
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def _lock(client: Client) -> Client | None:
    return (
        Client.objects.select_for_update(of=("self",))
        .select_related("customer__parent")
        .filter(pk=client.pk)
        .first()
    )


def _connected(client: Client, req: ConnectRequest, *, set_password: bool) -> ConnectResult:
    """Record the connect (pending -> active, last seen, host, version) and issue a token."""
    now = timezone.now()
    client.last_seen_at = now
    update_fields = ["last_seen_at", "updated_at"]
    status = status_when_enabled(client)  # active, now that an agent has connected
    if not client.is_disabled and client.status != status:
        client.status = status
        update_fields.append("status")
    if req.hostname:
        client.hostname = req.hostname
        update_fields.append("hostname")
    if req.agent_version:
        client.agent_version = req.agent_version
        update_fields.append("agent_version")
    if set_password:
        update_fields.append("password")
    client.save(update_fields=update_fields)
    token = issue_token(client, now)
    refresh_token = issue_refresh_token(client, now)
    body = {**client_summary(client), "token": token, "refresh_token": refresh_token}
    return ConnectResult(created=False, body=body)
