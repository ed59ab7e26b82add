"""Every console URL × every role × GET and POST answers what the permission table says,
walked from the URL resolver so that a new view is covered the day it is added.

Each URL is classified below by the action it needs for GET and for POST (or OPEN: every
signed-in user, such as the own account pages; or POST_ONLY / GET_ONLY: the other method
answers 405 whatever the role). A URL that is not classified fails the sweep. The
expected answer comes from docs/permissions.md's table (tests/roles/documented.py), which
another test holds equal to the code's. Allowed: anything but 403 and 5xx. Refused: 403,
with the database exactly as it was (a digest of every table's rows).

Tenancy (another reseller's objects answer 404) is tests/test_isolation.py's sweep.
"""

import hashlib
import re

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clients.models import PendingRequest
from hierarchy import memberships
from hierarchy.models import Membership
from securecloud.accounts import api_keys, invitations
from securecloud.events.models import Webhook
from securecloud.mail.models import EmailDelivery
from tests.conftest import PASSWORD
from tests.roles.documented import documented_table

OPEN = "open"  # every signed-in user, whatever the role
POST_ONLY = "post-only"  # GET answers 405 for everyone
GET_ONLY = "get-only"  # POST answers 405 for everyone

# name: (what GET needs, what POST needs); actions are docs/permissions.md's names.
URLS = {
    # Sign-in and the signed-in user's own account: open to every role.
    "login": (OPEN, OPEN),
    "logout": (OPEN, OPEN),
    "password_change": (OPEN, OPEN),
    "password_change_done": (OPEN, OPEN),
    "password_reset": (OPEN, OPEN),
    "password_reset_done": (OPEN, OPEN),
    "password_reset_confirm": (OPEN, OPEN),
    "password_reset_complete": (OPEN, OPEN),
    "account": (OPEN, OPEN),
    "two-factor-setup": (OPEN, OPEN),
    "two-factor-verify": (OPEN, OPEN),
    "two-factor-disable": (POST_ONLY, OPEN),
    "two-factor-recovery-codes": (POST_ONLY, OPEN),
    "healthz": (OPEN, OPEN),
    "favicon": (OPEN, GET_ONLY),
    "icon-sprite": (OPEN, GET_ONLY),
    # Reading the console.
    "console-home": ("view", GET_ONLY),
    "search": ("view", GET_ONLY),
    "tree-children": ("view", GET_ONLY),
    "tree-top": ("view", GET_ONLY),  # the top-level resellers: a superuser's (404 otherwise)
    "reseller-pane": ("view", GET_ONLY),
    "health-list": ("view", GET_ONLY),
    "customer-pane": ("view", GET_ONLY),
    "client-pane": ("view", GET_ONLY),
    "reseller-history": ("view", GET_ONLY),
    "customer-history": ("view", GET_ONLY),
    "client-history": ("view", GET_ONLY),
    "email-report-preview": ("view", GET_ONLY),
    # Usage and billing: the page, its CSV, and the reseller's prices.
    "usage-home": ("view_billing", GET_ONLY),
    "reseller-usage": ("view_billing", GET_ONLY),
    "reseller-usage-csv": ("view_billing", GET_ONLY),
    "reseller-prices": (POST_ONLY, "manage_settings"),
    "reseller-usage-figures": ("view", GET_ONLY),
    "customer-storage": ("view", GET_ONLY),
    # The reseller: sub-resellers, admins, settings.
    "reseller-edit": ("manage_resellers", "manage_resellers"),
    "subreseller-add": ("manage_resellers", "manage_resellers"),
    "admin-add": (POST_ONLY, "manage_admins"),
    "admin-remove": (POST_ONLY, "manage_admins"),
    "admin-send-link": (POST_ONLY, "manage_admins"),
    "admin-role": (POST_ONLY, "manage_admins"),
    "invitation-resend": (POST_ONLY, "manage_admins"),
    "invitation-revoke": (POST_ONLY, "manage_admins"),
    # An invitation's link: no sign-in needed.
    "invitation-accept": (OPEN, OPEN),
    "reseller-two-factor-policy": (POST_ONLY, "manage_settings"),
    "reseller-customer-user-settings": (POST_ONLY, "manage_settings"),
    "reseller-branding": ("manage_settings", "manage_settings"),
    "branding-home": ("manage_settings", GET_ONLY),
    # The brand's stylesheet and logo: public files (the sign-in page reached through a
    # console address shows them), addressed by the reseller's opaque UUID.
    "branding-stylesheet": (OPEN, GET_ONLY),
    "branding-logo": (OPEN, GET_ONLY),
    "api-keys-home": ("manage_settings", GET_ONLY),
    "api-keys": ("manage_settings", "manage_settings"),
    "api-key-revoke": (POST_ONLY, "manage_settings"),
    # Customers.
    "customer-add": ("manage_customers", "manage_customers"),
    "customer-edit": ("manage_customers", "manage_customers"),
    "customer-users": ("view", GET_ONLY),
    "customer-user-invite": (POST_ONLY, "manage_customers"),
    "customer-user-remove": (POST_ONLY, "manage_customers"),
    "customer-auto-authorization": (POST_ONLY, "manage_customers"),
    "customer-regenerate-key": (POST_ONLY, "manage_customers"),
    "customer-delete": ("delete", "delete"),
    "customer-welcome": ("send_emails", "send_emails"),
    "email-welcome-resend": (POST_ONLY, "send_emails"),
    "email-retry": (POST_ONLY, "send_emails"),
    # Clients.
    "client-add": ("add_clients", "add_clients"),
    "client-edit": ("manage_clients", "manage_clients"),
    "client-switch-to-paid": ("manage_clients", "manage_clients"),
    "client-extend-trial": (POST_ONLY, "manage_clients"),
    "client-reset-password": (POST_ONLY, "add_clients"),
    "client-disable": (POST_ONLY, "manage_clients"),
    "client-enable": (POST_ONLY, "manage_clients"),
    "client-move": ("manage_clients", "manage_clients"),
    "client-delete": ("delete", "delete"),
    "clients-bulk": (POST_ONLY, "manage_clients"),
    "pending-approve": (POST_ONLY, "add_clients"),
    "pending-reject": (POST_ONLY, "add_clients"),
    # Webhooks (the reseller's settings) and an admin's own email alerts.
    "account-alerts": (OPEN, OPEN),
    "webhooks-home": (OPEN, GET_ONLY),  # a redirect to the own reseller's page (or 404)
    "webhooks": ("manage_settings", "manage_settings"),
    "webhook-edit": ("manage_settings", "manage_settings"),
    "webhook-delete": (POST_ONLY, "manage_settings"),
    "webhook-test": (POST_ONLY, "manage_settings"),
    "reseller-trial-emails": (POST_ONLY, "manage_settings"),
    "customer-alert-window": (POST_ONLY, "manage_customers"),
}

ROLES = ["administrator", "technician", "read_only", "billing", "customer", "superuser"]


def _console_patterns():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern

    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "api/")):
            continue  # the Django admin (superusers only) and the agent API (JSON, tokens)
        yield route, pattern.name, sorted(pattern.pattern.converters)


PATTERNS = sorted(_console_patterns())


def test_every_console_url_is_classified():
    names = {name for _, name, _ in PATTERNS}
    assert names - set(URLS) == set(), "classify each new URL in URLS"
    assert set(URLS) - names == set(), "URLS names a URL that no longer exists"
    actions = {rule for rules in URLS.values() for rule in rules} - {OPEN, POST_ONLY, GET_ONLY}
    documented = {action for actions in documented_table().values() for action in actions}
    assert actions <= documented


@pytest.fixture
def cast(reseller_a, alice, sub_reseller_a, sam, customer_a1, client_a1, customer_a_east, root):
    """Alpha Backup's admins in each role (alice is its Administrator), and the objects
    each URL names: Alpha East (sam's sub-reseller), Acme with a failed email, its
    client, and sam's admin login; carol is Acme's customer user."""
    users = {"administrator": alice, "superuser": root}
    users["customer"] = memberships.add_customer_user(
        customer_a1, username="carol", password=PASSWORD, acting_user=None, origin="test"
    ).user
    for role in ("technician", "read_only", "billing"):
        users[role] = memberships.add_reseller_admin(
            reseller_a,
            username=f"{role}-admin",
            email=f"{role}@alpha.example",
            password=PASSWORD,
            role=role,
            acting_user=None,
            origin="test",
        ).user
    delivery = EmailDelivery.objects.create(
        customer=customer_a1,
        kind=EmailDelivery.Kind.WELCOME,
        recipient=customer_a1.contact_email,
        status=EmailDelivery.Status.FAILED,
        error="refused",
    )
    objects = {
        "resellers": sub_reseller_a,
        "customers": customer_a1,
        "clients": client_a1,
        "pending": PendingRequest.objects.create(
            customer=customer_a1, securecloud_id="waiting@acme.example", password="x"
        ),
        # A documentation address: a delivery to it is refused without any traffic.
        "webhooks": Webhook.objects.create(
            reseller=reseller_a, url="https://192.0.2.10/in", secret="s" * 20
        ),
        "tree": sub_reseller_a,
        "branding": sub_reseller_a,
        "admins": sam.membership,
        "customer-users": users["customer"].membership,
        "invitations": invitations.invite_admin(
            reseller_a,
            email="invited@alpha.example",
            role="technician",
            acting_user=alice,
            origin="test",
        ).invitation,
        "api-keys": api_keys.create_api_key(
            reseller_a, name="Sweep", role="read_only", acting_user=None, origin="test"
        ).api_key,
    }
    return users, objects, delivery, customer_a_east


def _url(route, name, params, objects, delivery):
    kwargs = {}
    for param in params:
        if param == "code":
            kwargs[param] = objects[route.split("/", 1)[0]].code
        elif param == "delivery_code":
            kwargs[param] = delivery.code
        elif param == "kind":
            kwargs[param] = "failed"
        elif param in {"uidb64", "token"}:
            kwargs[param] = "x" if param == "uidb64" else "set-password"
        else:  # pragma: no cover - a new kind of parameter must be taught to this test
            raise AssertionError(f"teach the roles sweep the parameter {param!r} of {name}")
    return reverse(name, kwargs=kwargs)


def _form(client_a1, east):
    """A POST that each allowed action would take (valid where it can be)."""
    return {
        "name": "Changed by the sweep",
        "contact_email": "sweep@example.com",
        "usage_space_bytes": "",
        "trial_days": "30",
        "securecloud_id": "sweep@client.example",
        "password": "Sweep-pass-2026",
        "password2": "Sweep-pass-2026",
        "days": "5",
        "confirm": client_a1.securecloud_id,
        "customer": str(east.code),
        "action": "send",
        "enabled": "1",
        "required": "1",
        "role": "technician",
        "username": "sweep-admin",
        "email": "sweep-admin@example.com",
    }


def _digest() -> str:
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label in {"sessions", "axes", "admin"}:
            continue
        for row in model.objects.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _expected(role: str, method: str, rule: str, table) -> str:
    if rule == OPEN:
        return "allowed"
    if (rule, method) in {(POST_ONLY, "get"), (GET_ONLY, "post")}:
        return "405"
    allowed = table["administrator"] if role == "superuser" else table[role]
    return "allowed" if rule in allowed else "403"


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_the_table_says(client, cast, client_a1, role):
    users, objects, delivery, east = cast
    user = users[role]
    table = documented_table()
    form = _form(client_a1, east)
    wrong = []
    for route, name, params in PATTERNS:
        url = _url(route, name, params, objects, delivery)
        for method, rule in zip(("get", "post"), URLS[name], strict=True):
            expected = _expected(role, method, rule, table)
            client.force_login(user)
            # Each request in a savepoint rolled back after it: an allowed change (a
            # deletion, a removed admin) does not change what the next URL finds.
            with transaction.atomic():
                before = _digest() if expected == "403" else None
                answer = getattr(client, method)(url, form if method == "post" else None)
                status = answer.status_code
                after = _digest() if expected == "403" else None
                transaction.set_rollback(True)
            if status >= 500:
                wrong.append((method, name, status, "server error"))
            elif expected == "allowed" and status == 403:
                wrong.append((method, name, status, "refused, but the role may"))
            elif expected == "405" and status != 405:
                wrong.append((method, name, status, "expected 405"))
            elif expected == "403":
                # A customer user is refused the reseller's pages as not found: they are
                # outside its subtree (its own customer's pages answer 403).
                refused = {403, 404} if role == "customer" else {403}
                if status not in refused:
                    wrong.append((method, name, status, "allowed, but the role may not"))
                elif before != after:
                    wrong.append((method, name, status, "refused, yet the database changed"))
    assert wrong == [], role


def test_the_panes_offer_no_button_that_the_role_would_be_refused(
    client, cast, reseller_a, customer_a1, client_a1
):
    """What the sweep refuses, the panes do not offer (no dead buttons); what it allows,
    they do."""
    users, objects, delivery, _ = cast
    on_the_panes = {
        "resellers": reseller_a,
        "customers": customer_a1,
        "clients": client_a1,
        "admins": users["technician"].membership,
        "customer-users": users["customer"].membership,
        "invitations": objects["invitations"],
        "api-keys": objects["api-keys"],
        "pending": objects["pending"],
        "webhooks": objects["webhooks"],
    }
    panes = [
        reverse("reseller-pane", args=[reseller_a.code]),
        reverse("customer-pane", args=[customer_a1.code]),
        reverse("client-pane", args=[client_a1.code]),
        reverse("customer-users", args=[customer_a1.code]),
        # The usage page holds its CSV download and the prices form.
        reverse("reseller-usage", args=[reseller_a.code]),
    ]
    table = documented_table()
    offered = {}
    for role in ("administrator", "technician", "read_only", "billing", "customer"):
        client.force_login(users[role])
        # A customer user sees its customer's panes (the reseller's answers 404).
        shown_panes = panes[1:] if role == "customer" else panes
        html = "".join(client.get(url).content.decode() for url in shown_panes)
        for route, name, params in PATTERNS:
            rule = next((r for r in URLS[name] if r not in {POST_ONLY, GET_ONLY}), OPEN)
            if rule in {OPEN, "view"}:
                continue
            url = _url(route, name, params, on_the_panes, delivery)
            shown = re.search(f'(?:href|action)="{re.escape(url)}["?]', html) is not None
            offered.setdefault(name, set())
            if shown:
                offered[name].add(role)
            if rule not in table[role]:
                assert not shown, (role, name)
    # The Administrator is offered the buttons (so the check above looks at real ones).
    # Not on these panes: a top-level reseller's Edit (renamed in the Django admin), the
    # welcome step (after Add New Customer) and Enable (the client is not disabled).
    # Nor a webhook's buttons (on the Webhooks page).
    elsewhere = {
        "reseller-edit",
        "api-key-revoke",  # on the API keys page
        "customer-welcome",
        "client-enable",
        "webhook-edit",
        "webhook-delete",
        "webhook-test",
        "reseller-trial-emails",  # on the Webhooks page
        "customer-alert-window",  # on a customer's Edit page
    }
    assert {name for name, roles in offered.items() if "administrator" in roles} == (
        set(offered) - elsewhere
    )
    assert "technician" in offered["client-add"] and "technician" in offered["customer-add"]


def test_a_membership_without_a_role_may_do_nothing(client, reseller_a, customer_a1, db):
    """A login whose role is not one of the four (never written by the services) is
    refused every change, and still sees nothing more than its subtree."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("odd", password=PASSWORD)
    Membership.objects.create(user=user, reseller=reseller_a, role="")
    client.force_login(user)
    assert client.get(reverse("customer-edit", args=[customer_a1.code])).status_code == 403
