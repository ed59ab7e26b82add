"""Admin API keys: creating, revoking and checking them, and the actor a key acts as.

An Administrator creates a key for its reseller with a role; the key then reads and
writes through the same access helpers, permission table and services as a login with
that membership (`KeyActor`). The key is shown once: only the SHA-256 digest of it is
stored, so a copy of the database opens nothing. A key is 32 random bytes, so a fast
digest suffices (no password hashing: nothing to guess).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from hierarchy import audit
from hierarchy.actors import ActingUser, Viewer, login_of
from hierarchy.models import ADMIN_ROLE_VALUES, Membership, Node
from hierarchy.validators import clean_name
from securecloud.accounts.models import ApiKey

KEY_PREFIX = "sck_"
TOKEN_BYTES = 32
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 6
MAX_EXPIRY_DAYS = 3650
# Writing last_used_at on every request would make each read a write: once a minute is
# precise enough for "last used".
LAST_USED_PRECISION = timedelta(minutes=1)

CREATED = "api_key.created"
REVOKED = "api_key.revoked"

NAME_TAKEN = "This reseller already has an API key with this name."
ROLE_UNKNOWN = "Choose one of the roles: Administrator, Technician, Read-only or Billing."
NOT_A_RESELLER = "API keys belong to a reseller."
EXPIRY_RANGE = f"Enter an expiry from 1 to {MAX_EXPIRY_DAYS} days."


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class KeyActor:
    """The actor of a request made with an API key: authenticated, active, never a
    superuser, with the key's role on the key's reseller. `membership_of` returns the
    membership it carries (an unsaved one: no query, no row in the users table)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False
    pk = None
    id = None

    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self._securecloud_membership = Membership(reseller=key.reseller, role=key.role)

    def get_username(self) -> str:
        return f"API key {self.key.name}"

    def __str__(self) -> str:
        return self.get_username()

    @property
    def origin(self) -> str:
        """What the audit log records as the channel of this key's writes."""
        return self.get_username()


@dataclass(frozen=True)
class NewKey:
    api_key: ApiKey
    secret: str  # shown once, never stored


def keys_of(reseller: Node) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(reseller=reseller).order_by("revoked_at", "name")


def get_key_for_user(user: Viewer, code: str) -> ApiKey:
    """A key of a reseller the user sees (404 otherwise), as every access helper."""
    visible = Node.objects.visible_to(user).resellers()
    return get_object_or_404(
        ApiKey.objects.select_related("reseller").filter(reseller__in=visible), code=code
    )


def clean_expiry_days(days: int | None) -> int | None:
    if days is None:
        return None
    if not isinstance(days, int) or not 1 <= days <= MAX_EXPIRY_DAYS:
        raise ValidationError({"expires_days": [EXPIRY_RANGE]})
    return days


def create_api_key(
    reseller: Node,
    *,
    name: str,
    role: str,
    expires_days: int | None = None,
    acting_user: ActingUser,
    origin: str,
) -> NewKey:
    """A new key of `reseller`; the secret is in the result, and nowhere else."""
    errors: dict[str, list[str]] = {}
    if not reseller.is_reseller:
        raise ValidationError(NOT_A_RESELLER, code="not_reseller")
    try:
        name = clean_name(name)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if role not in ADMIN_ROLE_VALUES:
        errors["role"] = [ROLE_UNKNOWN]
    try:
        expires_days = clean_expiry_days(expires_days)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    secret = KEY_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    api_key = ApiKey(
        reseller=reseller,
        name=name,
        role=role,
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        digest=digest_of(secret),
        created_by=login_of(acting_user),
        created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    try:
        with transaction.atomic():
            if ApiKey.objects.filter(reseller=reseller, name=name).exists():
                raise ValidationError({"name": [NAME_TAKEN]})
            api_key.save()
            audit.record(
                CREATED,
                api_key,
                acting_user=acting_user,
                origin=origin,
                changes={
                    "name": [None, name],
                    "role": [None, role],
                    "expires_at": [None, audit.snapshot_value(api_key.expires_at)],
                },
            )
    except IntegrityError as exc:  # lost a race for the name
        raise ValidationError({"name": [NAME_TAKEN]}) from exc
    return NewKey(api_key=api_key, secret=secret)


def revoke_api_key(api_key: ApiKey, *, acting_user: ActingUser, origin: str) -> ApiKey:
    """The key stops working at once; it stays listed (revoked) for the record."""
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().select_related("reseller").get(pk=api_key.pk)
        if api_key.revoked_at is not None:
            return api_key
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit.record(REVOKED, api_key, acting_user=acting_user, origin=origin)
    return api_key


def authenticate(secret: str, *, now: datetime | None = None) -> KeyActor | None:
    """The actor of a usable key (not revoked, not expired), or None. Notes the time
    it was used (at most once a minute per key)."""
    if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 100:
        return None
    api_key = (
        ApiKey.objects.select_related("reseller", "reseller__parent")
        .filter(digest=digest_of(secret), revoked_at__isnull=True)
        .first()
    )
    now = now or timezone.now()
    if api_key is None or api_key.is_expired(now):
        return None
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return KeyActor(api_key)
