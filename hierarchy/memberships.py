"""Writes to the admin memberships of resellers: adding an admin login to a reseller
(and so to its whole subtree) with its role, changing the role, and removing it. Like
every service, each function validates, runs in one transaction, records the change in
the audit log, and takes the acting user (None: the system) and the origin as required
keyword arguments."""

import secrets
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hierarchy import audit
from hierarchy.actors import ActingUser
from hierarchy.models import ADMIN_ROLE_CHOICES, ADMIN_ROLE_VALUES, Membership, Node
from hierarchy.services import lock_tree
from hierarchy.validators import clean_email_address


class FirstSignIn(Enum):
    """How a new admin signs in the first time when the caller chooses no password."""

    ONE_TIME_PASSWORD = "password"  # made here and returned, to be shown once
    EMAIL_LINK = "email"  # no usable password: the admin sets one from an emailed link


ONE_TIME_PASSWORD_BYTES = 12
ROLE_UNKNOWN = (
    "Choose one of the roles: " + ", ".join(label for _value, label in ADMIN_ROLE_CHOICES) + "."
)
LAST_ADMINISTRATOR = (
    "{reseller} would be left without an Administrator: make another admin an Administrator first."
)
EMAIL_LINK_NEEDS_EMAIL = "Enter an email address to send the link to."


@dataclass(frozen=True)
class NewAdmin:
    user: Any
    one_time_password: str | None  # only for FirstSignIn.ONE_TIME_PASSWORD: show it once


def add_reseller_admin(
    reseller: Node,
    *,
    username: str,
    email: str = "",
    password: str | FirstSignIn,
    role: str = Membership.Role.ADMINISTRATOR,
    acting_user: ActingUser,
    origin: str,
) -> NewAdmin:
    """Create a login that administers `reseller` and its whole subtree.

    `password`: the login's password (commands that ask the operator for one), or how
    the admin signs in the first time: FirstSignIn.ONE_TIME_PASSWORD makes a password
    here and returns it (whoever adds the admin sees it once); FirstSignIn.EMAIL_LINK
    leaves the login an unusable password, to be set from a link emailed to `email`.
    `role`: a Membership.Role; Administrator unless the caller chooses (the commands
    create a reseller's first admin, who administers it).
    """
    if not reseller.is_reseller:
        raise ValidationError("Admins belong to a reseller.", code="not_reseller")
    if role not in ADMIN_ROLE_VALUES:
        raise ValidationError({"role": [ROLE_UNKNOWN]})
    return _add_login(
        reseller,
        username=username,
        email=email,
        password=password,
        role=role,
        event="admin.added",
        acting_user=acting_user,
        origin=origin,
    )


def add_customer_user(
    customer: Node,
    *,
    username: str,
    email: str = "",
    password: str | FirstSignIn,
    acting_user: ActingUser,
    origin: str,
) -> NewAdmin:
    """Create a customer's own login (role Customer user): it sees its customer and that
    customer's clients, and changes what its reseller lets customers change."""
    if not customer.is_customer:
        raise ValidationError("A customer user belongs to a customer.", code="not_customer")
    return _add_login(
        customer,
        username=username,
        email=email,
        password=password,
        role=Membership.Role.CUSTOMER,
        event="customer_user.added",
        acting_user=acting_user,
        origin=origin,
    )


def _add_login(
    node: Node,
    *,
    username: str,
    email: str,
    password: str | FirstSignIn,
    role: str,
    event: str,
    acting_user: ActingUser,
    origin: str,
) -> NewAdmin:
    one_time_password = None
    if password is FirstSignIn.ONE_TIME_PASSWORD:
        password = one_time_password = secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)
    user_model = get_user_model()
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["Enter a username."]
    elif user_model.objects.filter(username__iexact=username).exists():
        errors["username"] = ["This username is taken."]
    else:
        try:
            user_model.username_validator(username)
        except ValidationError as exc:
            errors["username"] = exc.messages
    email = (email or "").strip()
    if email:
        try:
            email = clean_email_address(email)
        except ValidationError as exc:
            errors["email"] = exc.messages
    elif password is FirstSignIn.EMAIL_LINK:
        errors["email"] = [EMAIL_LINK_NEEDS_EMAIL]
    if isinstance(password, str) and not errors:
        try:
            validate_password(password, user_model(username=username, email=email))
        except ValidationError as exc:
            errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = user_model(username=username, email=email)
        if isinstance(password, str):
            user.set_password(password)
        else:
            user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:
            raise ValidationError({"username": "This username is taken."}) from exc
        membership = Membership.objects.create(user=user, reseller=node, role=role)
        audit.record(
            event,
            membership,
            acting_user=acting_user,
            origin=origin,
            changes={"username": [None, username], "email": [None, email], "role": [None, role]},
        )
    return NewAdmin(user=user, one_time_password=one_time_password)


def remove_reseller_admin(membership: Membership, *, acting_user: ActingUser, origin: str) -> None:
    """Remove an admin login (the user itself goes, as it exists only for this reseller)."""
    if acting_user is not None and membership.user_id == acting_user.pk:
        raise ValidationError("You cannot remove your own login.", code="self")
    user = membership.user
    with transaction.atomic():
        audit.record(
            "admin.removed",
            membership,
            acting_user=acting_user,
            origin=origin,
            changes={"username": [user.get_username(), None]},
        )
        if user.is_superuser or user.is_staff:
            # A server operator's own login outlives its membership of a reseller.
            membership.delete()
        else:
            user.delete()


def remove_customer_user(membership: Membership, *, acting_user: ActingUser, origin: str) -> None:
    """Remove a customer's own login (the user goes with it)."""
    if membership.role != Membership.Role.CUSTOMER:
        raise ValidationError("This login is not a customer user.", code="not_customer_user")
    user = membership.user
    with transaction.atomic():
        audit.record(
            "customer_user.removed",
            membership,
            acting_user=acting_user,
            origin=origin,
            changes={"username": [user.get_username(), None]},
        )
        user.delete()


def set_admin_role(
    membership: Membership, role: str, *, acting_user: ActingUser, origin: str
) -> Membership:
    """Give an admin login another role (audited as a role change).

    A reseller's subtree always keeps an Administrator who can manage its admins: an
    Administrator's role is not lowered (its own or another's) when no other
    Administrator remains on its reseller or on a reseller above it.
    """
    if role not in ADMIN_ROLE_VALUES or membership.role == Membership.Role.CUSTOMER:
        raise ValidationError({"role": [ROLE_UNKNOWN]})
    with transaction.atomic():
        lock_tree(membership.reseller.tree_id)
        membership = Membership.objects.select_related("user", "reseller").get(pk=membership.pk)
        old = membership.role
        if old == role:
            return membership
        if old == Membership.Role.ADMINISTRATOR and not _other_administrators(membership):
            raise ValidationError(
                LAST_ADMINISTRATOR.format(reseller=membership.reseller.name),
                code="last_administrator",
            )
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            "admin.role_changed",
            membership,
            acting_user=acting_user,
            origin=origin,
            changes={"role": [old, role]},
        )
    return membership


def _other_administrators(membership: Membership) -> bool:
    """Whether an Administrator other than `membership` manages its reseller's subtree:
    one of the same reseller, or of a reseller above it."""
    return (
        Membership.objects.filter(
            reseller__in=Node.objects.above(membership.reseller),
            role=Membership.Role.ADMINISTRATOR,
        )
        .exclude(pk=membership.pk)
        .exists()
    )
