"""Business rules of the agent protocol: connect, backup reports, status, tokens.

The views in clients.api only parse HTTP and turn an AgentError into a JSON answer;
every decision is here. Connect decides in this order: validate the request, rate
limit, credentials, client state (see `connect`).
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clients import agent_store, ratelimit
from clients.models import AgentToken, Client
from clients.services import create_client
from clients.validators import normalise_securecloud_id, validate_client_password
from hierarchy import audit
from hierarchy.models import Node
from hierarchy.validators import has_invisible_characters

AGENT_ORIGIN = "agent"
TOKENS_KEPT = 5
TOKEN_BYTES = 32
MAX_SIZE = 2**63 - 1
# The most one client may report as stored: a petabyte. A customer's total is the sum
# of its clients', kept in a 64-bit column; int64-sized reports from a few clients
# would overflow it.
MAX_CLIENT_USED_BYTES = 10**15
MAX_MESSAGE_LENGTH = 4000
MAX_HOSTNAME_LENGTH = 255
MAX_AGENT_VERSION_LENGTH = 100
MAX_REGISTRATION_KEY_LENGTH = 128
MAX_PASSWORD_FIELD_LENGTH = 128
# How far an agent's clock may be off the server's: a report may end this far ahead of
# the server's clock, and start this far before its client was created.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# RFC 3339's date-time, which the API document promises: datetime.fromisoformat alone
# also reads week dates, the basic format, a decimal comma and control characters.
RFC_3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
LAST_SEEN_INTERVAL = timedelta(seconds=60)
BACKUP_STATUSES = [choice.value for choice in Client.BackupStatus]


@dataclass
class AgentError(Exception):
    """An answer other than success: `{"error": code}` (plus `fields`) with `status`."""

    status: int
    code: str
    fields: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    message: str | None = None  # for people: what went wrong, and what to do

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code}
        if self.message is not None:
            body["message"] = self.message
        if self.fields is not None:
            body["fields"] = self.fields
        return body


def invalid_request(fields: dict[str, str]) -> AgentError:
    return AgentError(400, "invalid_request", fields)


INVALID_CREDENTIALS = (401, "invalid_credentials")


# ---------------------------------------------------------------------------
# Validation of request bodies (plain Python values from json.loads)
# ---------------------------------------------------------------------------


class _Fields:
    """Collects one message per bad field."""

    def __init__(self, data: Any):
        self.errors: dict[str, str] = {}
        if not isinstance(data, dict):
            raise invalid_request({"body": "Send a JSON object."})
        self.data = data

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int,
        multiline: bool = False,
        any_character: bool = False,
    ) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = "This field is required."
            return None
        if not isinstance(value, str):
            self.errors[name] = "Send a string."
            return None
        if len(value) > max_length:
            self.errors[name] = f"At most {max_length} characters."
            return None
        if not _storable(value, multiline=multiline, any_character=any_character):
            self.errors[name] = "Contains characters that are not allowed."
            return None
        return value

    def size(self, name: str, *, required: bool = False, most: int = MAX_SIZE) -> int | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = "This field is required."
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors[name] = "Send a whole number."
            return None
        if not 0 <= value <= most:
            self.errors[name] = f"Send a number from 0 to {most}."
            return None
        return cast(int, value)  # an int, not a bool: checked above

    def timestamp(self, name: str) -> datetime | None:
        value = self.data.get(name)
        if value is None:
            self.errors[name] = "This field is required."
            return None
        if not isinstance(value, str) or len(value) > 64:
            self.errors[name] = "Send an ISO 8601 timestamp with a UTC offset."
            return None
        try:
            if not RFC_3339.fullmatch(value):
                raise ValueError("not RFC 3339")
            parsed = datetime.fromisoformat(value.upper())
            if parsed.tzinfo is None or parsed.utcoffset() is None:
                raise ValueError("naive")
            return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            self.errors[name] = (
                "Send an ISO 8601 timestamp with a UTC offset, e.g. 2025-01-31T23:00:00+00:00."
            )
            return None

    def done(self) -> None:
        if self.errors:
            raise invalid_request(self.errors)


def _storable(value: str, *, multiline: bool, any_character: bool = False) -> bool:
    """Text that both databases store and the hashers accept: UTF-8, no control chars."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates such as "\ud800"
        return False
    if any_character:
        return True
    allowed = {"\n", "\t", "\r"} if multiline else set()
    return not any((ord(ch) < 32 or ord(ch) == 127) and ch not in allowed for ch in value)


@dataclass(frozen=True)
class ConnectRequest:
    securecloud_id: str
    password: str
    registration_key: str | None
    hostname: str | None
    agent_version: str | None


def parse_connect(data: Any) -> ConnectRequest:
    f = _Fields(data)
    raw_id = f.string("securecloud_id", required=True, max_length=254)
    securecloud_id = None
    if raw_id is not None and not raw_id.isascii():
        f.errors["securecloud_id"] = "Use an email address, or letters, digits and . _ - @ + only."
    elif raw_id is not None:
        try:
            securecloud_id = normalise_securecloud_id(raw_id)
        except ValidationError as exc:
            f.errors["securecloud_id"] = exc.messages[0]
    # Hashed, never stored: any character that encodes is fine. The password rules apply
    # only where a connect sets a password (rules 2 and 3); to an existing password a
    # short guess is just a wrong password (401), and imported hashes may be of any length.
    password = f.string(
        "password", required=True, max_length=MAX_PASSWORD_FIELD_LENGTH, any_character=True
    )
    key = f.string("registration_key", max_length=MAX_REGISTRATION_KEY_LENGTH)
    hostname = f.string("hostname", max_length=MAX_HOSTNAME_LENGTH)
    agent_version = f.string("agent_version", max_length=MAX_AGENT_VERSION_LENGTH)
    # Both show on the client's pane: nothing there may turn text around or hide in it.
    for name, value in (("hostname", hostname), ("agent_version", agent_version)):
        if value and has_invisible_characters(value):
            f.errors[name] = "Contains characters that are not allowed."
    f.done()
    assert securecloud_id is not None and password is not None  # done() raised otherwise
    return ConnectRequest(
        securecloud_id=securecloud_id,
        password=password,
        registration_key=key.strip() or None if key else None,
        hostname=hostname.strip() if hostname else None,
        agent_version=agent_version.strip() if agent_version else None,
    )


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True)
class BackupRequest:
    started_at: datetime
    finished_at: datetime
    status: str
    used_bytes: int
    files: int | None
    message: str


def parse_backup(
    data: Any, now: datetime | None = None, client_created_at: datetime | None = None
) -> BackupRequest:
    """A backup report's values. Its times lie between the client's creation and now,
    give or take MAX_CLOCK_SKEW: a clock years off would move the client's last backup
    there (a report in the past is kept, but moves nothing back; see agent_store)."""
    f = _Fields(data)
    started_at = f.timestamp("started_at")
    finished_at = f.timestamp("finished_at")
    status = f.data.get("status")
    if status is None:
        f.errors["status"] = "This field is required."
    elif status not in BACKUP_STATUSES or not isinstance(status, str):
        f.errors["status"] = "Send one of: " + ", ".join(BACKUP_STATUSES) + "."
    used_bytes = f.size("used_bytes", required=True, most=MAX_CLIENT_USED_BYTES)
    files = f.size("files")
    message = f.string("message", max_length=MAX_MESSAGE_LENGTH, multiline=True)
    if started_at and finished_at and finished_at < started_at:
        f.errors["finished_at"] = "A backup cannot finish before it started."
    now = now or timezone.now()
    if finished_at and finished_at > now + MAX_CLOCK_SKEW:
        f.errors["finished_at"] = (
            f"This time is more than {_minutes(MAX_CLOCK_SKEW)} ahead of the server's clock; "
            "check the machine's clock."
        )
    if client_created_at is not None:
        earliest = client_created_at - MAX_CLOCK_SKEW
        for name, value in (("started_at", started_at), ("finished_at", finished_at)):
            if value and value < earliest and name not in f.errors:
                f.errors[name] = (
                    "This time is before the client was created "
                    f"({_iso(client_created_at)}); check the machine's clock."
                )
    f.done()
    assert started_at and finished_at and status and used_bytes is not None  # as above
    return BackupRequest(
        started_at=started_at,
        finished_at=finished_at,
        status=status,
        used_bytes=used_bytes,
        files=files,
        message=message or "",
    )


# ---------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(client: Client, now: datetime | None = None) -> str:
    """A new bearer token for `client`; only its 5 newest tokens keep working."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    AgentToken.objects.create(
        client=client, digest=token_digest(token), created_at=now or timezone.now()
    )
    stale = list(
        AgentToken.objects.filter(client=client)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)[TOKENS_KEPT:]
    )
    if stale:
        AgentToken.objects.filter(id__in=stale).delete()
    return token


def bearer_token(authorization: str) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    return token


def authenticate(authorization: str) -> AgentToken:
    """The token named in an Authorization header, with its client, customer and reseller.

    Raises 401 invalid_token, then 403 client_disabled or trial_expired.
    """
    token = bearer_token(authorization)
    if token is None:
        raise AgentError(401, "invalid_token")
    digest = token_digest(token)
    found = agent_store.find_token(digest)
    # The lookup found it by the indexed column; still compare in constant time.
    if found is None or not hmac.compare_digest(found.digest, digest):
        raise AgentError(401, "invalid_token")
    check_client_state(found.client)
    return found


def check_client_state(client: Client, now: datetime | None = None) -> None:
    if client.is_disabled:
        raise AgentError(403, "client_disabled")
    if client.trial_expired(now):
        raise AgentError(403, "trial_expired")


# ---------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def client_summary(client: Client) -> dict[str, Any]:
    """The body of a connect success, without the token (also the status answer)."""
    customer = client.customer
    reseller = customer.parent
    return {
        "client": {
            "securecloud_id": client.securecloud_id,
            "plan": client.plan,
            "status": client.status,
            "trial_ends_at": _iso(client.trial_ends_at),
        },
        "customer": {"name": customer.name},
        "reseller": {"name": reseller.name if reseller else ""},
        "quota_bytes": customer.usage_space_bytes,
        "used_bytes": client.used_bytes,
    }


# ---------------------------------------------------------------------------
# Connect
# ---------------------------------------------------------------------------


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
    """Rules 1-6 of the protocol, in order: validate, rate limit, credentials, state.

    Runs outside any transaction: a failure is counted after the work of the attempt
    is rolled back, so the count always sticks.
    """
    req = parse_connect(data)

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
            origin=f"{AGENT_ORIGIN} {ip}",
            changes={"password": ["not set", "set"], "status": [before, client.status]},
        )
        return result


def _connect_new(req: ConnectRequest, ip: str) -> ConnectResult | None:
    """Rule 3, or None when the ID was created by someone else meanwhile."""
    customer = _customer_for_key(req.registration_key)
    if customer is None:
        raise _bad_credentials(req, hash_anyway=True)
    if not customer.auto_add_clients:
        raise AgentError(403, "authorization_required")
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
    if client.status == Client.Status.PENDING:
        client.status = Client.Status.ACTIVE
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
    return ConnectResult(created=False, body={**client_summary(client), "token": token})


# ---------------------------------------------------------------------------
# Backup reports and status
# ---------------------------------------------------------------------------


def record_backup(authorization: str, data: Any) -> dict[str, Any]:
    """Store a backup report and move the client's and the customer's storage used.

    The token comes first (401/403), then the body (400). The write itself is one
    statement on PostgreSQL (clients.agent_store): it locks the client row, so two
    reports of one client cannot lose a delta.
    """
    now = timezone.now()
    token = authenticate(authorization)
    if isinstance(data, AgentError):  # the body was not JSON
        raise data
    report = parse_backup(data, now, token.client.created_at)
    written = agent_store.write_backup(
        token.client_id,
        started_at=report.started_at,
        finished_at=report.finished_at,
        status=report.status,
        used_bytes=report.used_bytes,
        files=report.files,
        message=report.message,
        now=now,
    )
    if written is None:
        # Disabled or deleted since the token was read: its tokens are revoked.
        raise AgentError(401, "invalid_token")
    return {
        "quota_bytes": written.quota_bytes,
        "used_bytes": written.client_used_bytes,
        "customer_used_bytes": written.customer_used_bytes,
        "over_quota": written.over_quota,
    }


def status(authorization: str) -> dict[str, Any]:
    """The connect body without a token; records last seen at most once a minute."""
    token = authenticate(authorization)
    client = token.client
    now = timezone.now()
    if client.last_seen_at is None or client.last_seen_at < now - LAST_SEEN_INTERVAL:
        Client.objects.filter(
            Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now - LAST_SEEN_INTERVAL),
            pk=client.pk,
        ).update(last_seen_at=now)
    return client_summary(client)
