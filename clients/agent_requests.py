"""What an agent may send, and the error it gets back: the limits of the agent protocol,
AgentError (every answer other than success) and the validation of the JSON bodies of
connect, refresh and backup reports. Plain Python values in, dataclasses out; no database.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.models import Client
from clients.validators import normalise_securecloud_id
from hierarchy.validators import has_invisible_characters

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
INVALID_REFRESH_TOKEN = (401, "invalid_refresh_token")
# A refresh token is secrets.token_urlsafe(32): 43 characters. Room to grow, no more.
MAX_REFRESH_TOKEN_LENGTH = 200

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


def parse_refresh(data: Any) -> str:
    """The refresh token of a refresh request's body."""
    f = _Fields(data)
    token = f.string("refresh_token", required=True, max_length=MAX_REFRESH_TOKEN_LENGTH)
    if token is not None and not token:
        f.errors["refresh_token"] = "This field is required."
    f.done()
    assert token is not None  # done() raised otherwise
    return token


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
                    f"({iso_utc(client_created_at)}); check the machine's clock."
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


def iso_utc(value: datetime | None) -> str | None:
    """A time as the agent protocol writes it: ISO 8601 in UTC."""
    return value.astimezone(UTC).isoformat() if value else None
