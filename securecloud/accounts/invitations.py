"""Invitations of admins: an Administrator invites someone by email, with a role; the
emailed link opens a page (no sign-in) where the invitee chooses a username and a
password, which creates the login and its membership of the reseller.

A link works once and expires INVITATION_LIFETIME after it was (re)sent. Only the
SHA-256 digest of its token is stored: a resend makes a new token, so the older link
stops working. Each write is audited (sent, resent, accepted, revoked, and an expired
link that someone tried). The emails themselves are the mail app's job: the caller
sends the link that `invite_admin` and `resend_invitation` return.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from hierarchy import audit
from hierarchy.actors import login_of
from hierarchy.memberships import ROLE_UNKNOWN, add_customer_user, add_reseller_admin
from hierarchy.models import ADMIN_ROLE_VALUES, Membership, Node
from hierarchy.validators import clean_email_address
from securecloud.accounts.models import Invitation

INVITATION_LIFETIME = timedelta(hours=72)
TOKEN_BYTES = 32

SENT = "invitation.sent"
RESENT = "invitation.resent"
ACCEPTED = "invitation.accepted"
REVOKED = "invitation.revoked"
EXPIRED = "invitation.expired"

NOT_VALID = "This invitation link is not valid. Ask the person who invited you for a new one."
USED = "This invitation has already been used. Sign in with the username you chose."
REVOKED_MESSAGE = "This invitation was withdrawn. Ask the person who invited you for a new one."
EXPIRED_MESSAGE = (
    "This invitation has expired (links work for 72 hours). "
    "Ask the person who invited you to send it again."
)
NOT_PENDING = "This invitation is no longer pending."
ALREADY_ADMIN = "{email} is already an admin here."
ALREADY_USER = "{email} is already a user of this customer."
ALREADY_INVITED = "{email} already has a pending invitation here: resend it instead."


class InvitationError(ValidationError):
    """An invitation link that cannot be used (unknown, used, revoked or expired)."""


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    token: str  # the link's secret: emailed once, never stored


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, digest(token)


# --- Reads ------------------------------------------------------------------------------


def pending_invitations(reseller: Node) -> QuerySet[Invitation]:
    """The reseller's invitations not yet accepted or revoked (expired ones included, to
    be resent or revoked), oldest first."""
    return Invitation.objects.filter(reseller=reseller, accepted_at=None, revoked_at=None).order_by(
        "created_at", "pk"
    )


def get_invitation_for_user(user: Any, code: Any) -> Invitation:
    """An invitation of a reseller the user may see (its own reseller or below): 404
    otherwise, like one that does not exist."""
    return get_object_or_404(
        Invitation.objects.filter(reseller__in=Node.objects.visible_to(user)).select_related(
            "reseller"
        ),
        code=code,
    )


def invitation_for_token(token: str) -> Invitation:
    """The pending, unexpired invitation of a link, or InvitationError saying why not."""
    invitation = (
        Invitation.objects.select_related("reseller").filter(token_digest=digest(token)).first()
        if token
        else None
    )
    if invitation is None:
        raise InvitationError(NOT_VALID, code="invalid")
    if invitation.accepted_at is not None:
        raise InvitationError(USED, code="used")
    if invitation.revoked_at is not None:
        raise InvitationError(REVOKED_MESSAGE, code="revoked")
    if invitation.is_expired():
        raise InvitationError(EXPIRED_MESSAGE, code="expired")
    return invitation


# --- Writes -----------------------------------------------------------------------------


def invite_admin(
    reseller: Node, *, email: str, role: str, acting_user: Any, origin: str
) -> SentInvitation:
    """Invite `email` to administer `reseller` (and its subtree) with `role`."""
    if not reseller.is_reseller:
        raise ValidationError("Admins belong to a reseller.", code="not_reseller")
    if role not in ADMIN_ROLE_VALUES:
        raise ValidationError({"role": [ROLE_UNKNOWN]})
    return _invite(reseller, email=email, role=role, acting_user=acting_user, origin=origin)


def invite_customer_user(
    customer: Node, *, email: str, acting_user: Any, origin: str
) -> SentInvitation:
    """Invite `email` to be a user of `customer` (its own login: role Customer user)."""
    if not customer.is_customer:
        raise ValidationError("A customer user belongs to a customer.", code="not_customer")
    return _invite(
        customer,
        email=email,
        role=Membership.Role.CUSTOMER,
        acting_user=acting_user,
        origin=origin,
    )


def _invite(node: Node, *, email: str, role: str, acting_user: Any, origin: str) -> SentInvitation:
    reseller = node
    errors: dict[str, list[str]] = {}
    try:
        email = clean_email_address((email or "").strip())
    except ValidationError as exc:
        errors["email"] = exc.messages
    if not email and "email" not in errors:
        errors["email"] = ["Enter the email address to send the invitation to."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if reseller.memberships.filter(user__email__iexact=email).exists():
            already = ALREADY_USER if node.is_customer else ALREADY_ADMIN
            raise ValidationError({"email": [already.format(email=email)]})
        if (
            pending_invitations(reseller)
            .filter(email__iexact=email, expires_at__gt=timezone.now())
            .exists()
        ):
            raise ValidationError({"email": [ALREADY_INVITED.format(email=email)]})
        token, token_digest = _new_token()
        now = timezone.now()
        invitation = Invitation.objects.create(
            reseller=reseller,
            email=email,
            role=role,
            token_digest=token_digest,
            created_by=login_of(acting_user),
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        audit.record(
            SENT,
            invitation,
            acting_user=acting_user,
            origin=origin,
            changes={"email": [None, email], "role": [None, role]},
        )
    return SentInvitation(invitation=invitation, token=token)


def resend_invitation(invitation: Invitation, *, acting_user: Any, origin: str) -> SentInvitation:
    """A new link for a pending invitation (the old one stops working), valid for
    another INVITATION_LIFETIME."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_pending:
            raise ValidationError(NOT_PENDING, code="not_pending")
        token, invitation.token_digest = _new_token()
        invitation.expires_at = timezone.now() + INVITATION_LIFETIME
        invitation.save(update_fields=["token_digest", "expires_at"])
        audit.record(
            RESENT,
            invitation,
            acting_user=acting_user,
            origin=origin,
            changes={"email": [None, invitation.email]},
        )
    return SentInvitation(invitation=invitation, token=token)


def revoke_invitation(invitation: Invitation, *, acting_user: Any, origin: str) -> Invitation:
    """Withdraw a pending invitation: its link stops working."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_pending:
            raise ValidationError(NOT_PENDING, code="not_pending")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(
            REVOKED,
            invitation,
            acting_user=acting_user,
            origin=origin,
            changes={"email": [invitation.email, None]},
        )
    return invitation


def check_token(token: str, *, origin: str) -> Invitation:
    """The invitation of a link that may still be accepted, or InvitationError. An
    expired link that someone tries is recorded in the audit log."""
    try:
        return invitation_for_token(token)
    except InvitationError as exc:
        if exc.code == "expired":
            invitation = Invitation.objects.select_related("reseller").get(
                token_digest=digest(token)
            )
            with transaction.atomic():
                audit.record(
                    EXPIRED,
                    invitation,
                    acting_user=None,
                    origin=origin,
                    changes={"email": [None, invitation.email]},
                    actor_label=invitation.email,
                )
        raise


def accept_invitation(token: str, *, username: str, password: str, origin: str) -> Any:
    """Create the invitee's login (`username`, `password`, checked by Django's password
    validators) and its membership with the invitation's role; the link works once.
    Returns the new user. InvitationError for a link that cannot be used, ValidationError
    (by field) for a username or password that is refused."""
    check_token(token, origin=origin)
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().filter(token_digest=digest(token)).first()
        )
        if invitation is None or not invitation.is_pending:
            raise InvitationError(USED, code="used")
        node = Node.objects.get(pk=invitation.reseller_id)
        if node.is_customer:
            user = add_customer_user(
                node,
                username=username,
                email=invitation.email,
                password=password,
                acting_user=None,
                origin=origin,
            ).user
        else:
            user = add_reseller_admin(
                node,
                username=username,
                email=invitation.email,
                password=password,
                role=invitation.role,
                acting_user=None,
                origin=origin,
            ).user
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit.record(
            ACCEPTED,
            invitation,
            acting_user=user,
            origin=origin,
            changes={"username": [None, user.get_username()]},
        )
    return user
