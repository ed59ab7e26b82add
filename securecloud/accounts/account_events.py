"""What happens to a login, in the audit log: sign-ins, failed sign-ins, sign-outs, the
second factor's checks, and new passwords (changed by the login itself, set from a
reset link, or set by a superuser in the Django admin). Each event says who, when and
from where (the origin: the channel and the address).

Where an event is filed: a reseller admin's under its reseller (its Membership), so
that the reseller's History shows it. A login without a reseller (a superuser) and a
sign-in tried with a username that no login has are filed under no reseller: they show
in the Django admin's audit log, never in a reseller's History. A failed sign-in
links no user: it names the username tried, and for a login that exists, files the
event under that login.

No event holds a password, or anything else typed into a password field."""

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import transaction

from hierarchy import audit
from hierarchy.models import AuditEvent, Membership

if TYPE_CHECKING:
    from django.contrib.auth.forms import SetPasswordForm

SIGNED_IN = "login.signed_in"
SIGN_IN_FAILED = "login.sign_in_failed"
LOCKED_OUT = "login.locked_out"
SIGNED_OUT = "login.signed_out"
TWO_FACTOR_PASSED = "login.two_factor_passed"
TWO_FACTOR_FAILED = "login.two_factor_failed"
PASSWORD_CHANGED = "login.password_changed"
PASSWORD_RESET = "login.password_reset"
PASSWORD_SET = "login.password_set"

# How a new password came: the login changed it, a reset link set it, or a superuser
# set it in the Django admin.
PASSWORD_ACTIONS = {"changed": PASSWORD_CHANGED, "reset": PASSWORD_RESET, "set": PASSWORD_SET}

# The longest username the sign-in form takes (the User model's); longer is cut.
USERNAME_LIMIT = 150


def _record(
    action: str,
    user: Any,
    *,
    acting_user: Any,
    origin: str,
    changes: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """One event about `user`'s login, filed under its reseller when it has one."""
    membership = (
        Membership.objects.select_related("reseller", "user").filter(user_id=user.pk).first()
        if user is not None
        else None
    )
    with transaction.atomic():
        return audit.record(
            action,
            membership,
            acting_user=acting_user,
            origin=origin,
            changes=changes,
            object_type=None if membership is not None else "user",
            actor_label=actor_label,
        )


def record_sign_in(user: Any, *, acting_user: Any, origin: str) -> AuditEvent:
    """`user` signed in with its password (a second factor, if it has one, comes next)."""
    return _record(SIGNED_IN, user, acting_user=acting_user, origin=origin)


def record_sign_out(user: Any, *, acting_user: Any, origin: str) -> AuditEvent:
    return _record(SIGNED_OUT, user, acting_user=acting_user, origin=origin)


def record_failed_sign_in(
    username: str, *, locked_out: bool, acting_user: Any, origin: str
) -> AuditEvent:
    """A sign-in with `username` was refused: a wrong password, a login that may not
    sign in, or (`locked_out`) one attempt too many from that address. Filed under the
    login with that username, if one exists (the name as the sign-in looks it up),
    else under no reseller."""
    username = "".join(ch for ch in str(username or "") if ch.isprintable())[:USERNAME_LIMIT]
    user = get_user_model().objects.filter(username=username).first() if username else None
    return _record(
        LOCKED_OUT if locked_out else SIGN_IN_FAILED,
        user,
        acting_user=acting_user,
        origin=origin,
        changes={"username": [None, username]},
        actor_label=username or "(no username)",
    )


def record_two_factor_check(
    user: Any, *, passed: bool, acting_user: Any, origin: str
) -> AuditEvent:
    """`user`, signed in with its password, entered a code: accepted or refused."""
    action = TWO_FACTOR_PASSED if passed else TWO_FACTOR_FAILED
    return _record(action, user, acting_user=acting_user, origin=origin)


def record_new_password(user: Any, *, how: str, acting_user: Any, origin: str) -> AuditEvent:
    """`user` has a new password (`how`: "changed", "reset" or "set", see
    PASSWORD_ACTIONS). Called inside the transaction that saved it."""
    changes = {} if user.has_usable_password() else {"usable_password": [True, False]}
    return _record(
        PASSWORD_ACTIONS[how], user, acting_user=acting_user, origin=origin, changes=changes
    )


def save_password(form: "SetPasswordForm[Any]", *, how: str, acting_user: Any, origin: str) -> Any:
    """Save a valid password form (a change, or a reset link's) and record it, in one
    transaction; returns the user."""
    with transaction.atomic():
        user = form.save()
        record_new_password(user, how=how, acting_user=acting_user, origin=origin)
    return user
