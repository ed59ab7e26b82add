"""Accounts' tables: the counted requests behind the password reset limits, the
invitations of admins, and the logins that must change their password.

First created by the hierarchy app, the table keeps its name (`hierarchy_ratelimithit`):
moving the model here changed no data.
"""

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from hierarchy.models import Membership


class RateLimitHit(models.Model):
    """One request that a rate limit counts (a password reset, per address asked for
    and per client address). The limit counts these rows, so every server process sees
    the same numbers; rows older than the window are pruned as new ones are written."""

    # "<limit>:<what is counted>", e.g. "reset-ip:198.51.100.7"
    key = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "hierarchy_ratelimithit"
        indexes = [
            models.Index(fields=["key", "created_at"], name="ratelimithit_key_created_idx"),
            models.Index(fields=["created_at"], name="ratelimithit_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} at {self.created_at:%H:%M:%S}"


class Invitation(models.Model):
    """An invitation to become an admin of a reseller, with a role: emailed as a link
    that works once and expires. Only the SHA-256 digest of the link's token is stored,
    so a copy of the database opens no invitation."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reseller = models.ForeignKey(
        "hierarchy.Node", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(max_length=254)
    role = models.CharField("Role", max_length=20, choices=Membership.Role.choices)
    token_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["reseller", "accepted_at", "revoked_at"])]

    def __str__(self) -> str:
        return f"Invitation of {self.email}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    def audit_scope(self) -> tuple[Any, uuid.UUID | None, uuid.UUID]:
        """(reseller, customer code, object code) its audit events are filed under: a
        customer user's invitation under its customer."""
        if self.reseller.is_customer:
            return self.reseller.parent, self.reseller.code, self.code
        return self.reseller, None, self.code


class PasswordState(models.Model):
    """Whether a login must choose a new password at its next sign-in: set when someone
    else set its password (a superuser in the Django admin, an Administrator's reset),
    cleared when the login changes it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_state"
    )
    must_change = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user_id}: {'must change' if self.must_change else 'ok'}"


class ApiKey(models.Model):
    """A key of the admin API: it acts in its reseller's subtree with one of the admin
    roles, like a login with that membership. Only the SHA-256 digest of the key is
    stored (a key is 256 random bits, so a fast digest is enough); the key itself is
    shown once, when it is created. `prefix` (its first characters) tells keys apart
    on the API keys page without revealing them."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reseller = models.ForeignKey(
        "hierarchy.Node", on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField("Name", max_length=200)
    role = models.CharField("Role", max_length=20, choices=Membership.Role.choices)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField("Expires", null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField("Last used", null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reseller", "name"], name="apikey_reseller_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and (now or timezone.now()) >= self.expires_at

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired()

    def audit_scope(self) -> tuple[Any, None, uuid.UUID]:
        """(reseller, customer code, object code) its audit events are filed under."""
        return self.reseller, None, self.code
