"""Who reads and who acts, as the services' and access helpers' signatures name them."""

from typing import Any, Protocol, TypeAlias, runtime_checkable

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser


@runtime_checkable
class Delegate(Protocol):
    """An actor that is not a login: an admin API key acting with a role on its
    reseller. It reads and acts like a login with that membership (membership_of
    returns the one it carries), but has no row in the users table: the audit log
    names it by `get_username()` and links no login."""

    is_authenticated: bool
    is_active: bool
    is_superuser: bool
    pk: None

    def get_username(self) -> str: ...


# Whoever a request is from (a view passes request.user; the admin API its key): scoped
# reads take one.
Viewer: TypeAlias = AbstractBaseUser | AnonymousUser | Delegate
# Who makes a change: a login, a delegate, or None for the system (a command, an agent,
# a task).
ActingUser: TypeAlias = AbstractBaseUser | AnonymousUser | Delegate | None


def login_of(actor: Any) -> Any:
    """The login behind an actor, for a foreign key to the users table: None for the
    system, an anonymous user and a delegate (which has no row)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    if getattr(actor, "pk", None) is None:
        return None
    return actor
