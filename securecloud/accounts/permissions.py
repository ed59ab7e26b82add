"""Who may do what: the one place that decides whether a user may do an action.

The console's views, the commands and the future admin API ask `may()` (or `require()`,
which refuses with PermissionDenied, a 403). The answer comes from the user's role, in
the table below (docs/permissions.md shows the same table; a test holds them equal). A
superuser has an Administrator's rights everywhere.

Which objects a user reaches is not decided here: the access helpers already answer 404
for anything outside the user's subtree, so the object passed in is one the user may
see, and the answer is the role's. The role comes from the membership that
`reseller_of(user)` loads and caches on the user: asking costs no query after the first.
"""

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied

from hierarchy.actors import Viewer
from hierarchy.models import Membership, membership_of

Role = Membership.Role


class Action(StrEnum):
    """What a user may be allowed to do in its reseller's subtree."""

    # See the console: panes, lists, History, backup health, search, report previews.
    VIEW = "view"
    # The usage and billing pages (when they exist).
    VIEW_BILLING = "view_billing"
    # Customers: add, edit, toggle auto-authorization, regenerate the registration key.
    MANAGE_CUSTOMERS = "manage_customers"
    # Clients: add, edit, move, switch to Paid, extend the trial, reset the password,
    # disable and enable.
    MANAGE_CLIENTS = "manage_clients"
    # Add New Client and Reset password: the two client changes a customer user may be
    # allowed (by its reseller's "Customers may add clients"); every role that manages
    # clients has them.
    ADD_CLIENTS = "add_clients"
    # Delete a customer or a client.
    DELETE = "delete"
    # Send the welcome email, resend it, retry a failed email.
    SEND_EMAILS = "send_emails"
    # Sub-resellers: add, rename.
    MANAGE_RESELLERS = "manage_resellers"
    # Admins: add, remove, change their role, send a set-password link (and invitations).
    MANAGE_ADMINS = "manage_admins"
    # The reseller's settings: the two-factor policy, branding (later API keys, ...).
    MANAGE_SETTINGS = "manage_settings"


# The role × action table. docs/permissions.md shows it; keep the two the same.
PERMISSIONS: dict[str, frozenset[Action]] = {
    Role.ADMINISTRATOR: frozenset(Action),
    Role.TECHNICIAN: frozenset(
        {
            Action.VIEW,
            Action.MANAGE_CUSTOMERS,
            Action.MANAGE_CLIENTS,
            Action.ADD_CLIENTS,
            Action.SEND_EMAILS,
        }
    ),
    Role.READ_ONLY: frozenset({Action.VIEW, Action.VIEW_BILLING}),
    Role.BILLING: frozenset({Action.VIEW, Action.VIEW_BILLING}),
    # A customer's own login: its customer's pane and clients, read only, unless its
    # reseller lets customers add clients (CUSTOMER_SETTING_ACTIONS, below).
    Role.CUSTOMER: frozenset({Action.VIEW}),
}

# What a customer user may also do when its customer's reseller sets "Customers may add
# clients" (Node.customers_may_add_clients).
CUSTOMER_SETTING_ACTIONS = frozenset({Action.ADD_CLIENTS})

User = Viewer


def role_of(user: User) -> str | None:
    """The user's role: Administrator for a superuser, its membership's role for an
    admin, None for anyone else (signed out, inactive, or no reseller)."""
    if not user.is_authenticated or not user.is_active:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMINISTRATOR
    membership = membership_of(user)  # type: ignore[no-untyped-call]
    return membership.role if membership is not None else None


def may(user: User, action: Action, obj: Any = None) -> bool:
    """Whether `user` may do `action` (on `obj`, an object the user already reaches
    through an access helper)."""
    role = role_of(user)
    if role is None:
        return False
    if action in PERMISSIONS.get(role, frozenset()):
        return True
    if role == Role.CUSTOMER and action in CUSTOMER_SETTING_ACTIONS:
        return customers_may_add_clients(user)
    return False


def customers_may_add_clients(user: User) -> bool:
    """Whether a customer user's reseller (its customer's parent) lets customers add
    clients. The membership loads the customer and its parent once: no further query."""
    membership = membership_of(user)  # type: ignore[no-untyped-call]
    if membership is None:
        return False
    reseller = membership.reseller.parent
    return reseller is not None and bool(reseller.customers_may_add_clients)


def logins_action(node: Any) -> Action:
    """What managing the logins of `node` needs: a customer's users are managed with its
    customer (Administrators and Technicians), a reseller's admins by Administrators."""
    return Action.MANAGE_CUSTOMERS if node.is_customer else Action.MANAGE_ADMINS


def require(user: User, action: Action, obj: Any = None) -> None:
    """Refuse (PermissionDenied: 403) unless `user` may do `action`."""
    if not may(user, action, obj):
        raise PermissionDenied("Your role does not allow this.")


class Abilities(Mapping[str, bool]):
    """What a user may do, by action name, for templates: `{% if can.manage_clients %}`
    hides a button the role may not use (the view refuses it whatever is shown). Each
    answer is a lookup in the table: no query, however many rows ask."""

    def __init__(self, user: User) -> None:
        self._user = user

    def __getitem__(self, name: str) -> bool:
        try:
            action = Action(name)
        except ValueError:
            raise KeyError(name) from None
        return may(self._user, action)

    def __iter__(self) -> Iterator[str]:
        return iter(action.value for action in Action)

    def __len__(self) -> int:
        return len(Action)
