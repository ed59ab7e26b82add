"""Tenant isolation on every URL of the console, walked from the URL resolver so that a
new view is covered the day it is added.

Each console URL that names an object is requested, GET and POST, with another
tenant's object, as: that other reseller's admin (alice against Bravo's objects), the
admin of a sibling sub-reseller (sam of Alpha East against Alpha West's objects), a
signed-out visitor, and the superuser. Expected: 404 for the admins, the sign-in page
for the visitor, never a 5xx, and no change in the database after a refused POST.
"""

import hashlib
import uuid

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clients import services as client_services
from clients.models import Client, PendingRequest
from hierarchy import memberships, services
from hierarchy.models import Node
from securecloud.accounts import api_keys, invitations
from securecloud.events.models import Webhook
from securecloud.mail.models import EmailDelivery

# URLs that name no object of a tenant: sign-in, the signed-in user's own account pages,
# the console home and search (checked below for foreign results), health, favicon and
# the icon sprite.
NO_OBJECT = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "account",
    "two-factor-setup",
    "two-factor-verify",
    "two-factor-disable",
    "two-factor-recovery-codes",
    "healthz",
    "favicon",
    "icon-sprite",
    "console-home",
    "tree-top",
    "search",
    "usage-home",  # redirects to the user's own reseller's usage page
    "invitation-accept",  # an invitation's link, no sign-in: tests/accounts/test_invitations.py
    "branding-home",  # the signed-in admin's own reseller's Branding page
    # A brand's public files, by the reseller's opaque UUID: tests/branding/test_files.py.
    "branding-stylesheet",
    "branding-logo",
    "api-keys-home",  # a redirect to the signed-in admin's own reseller's keys
    # The selected clients' codes travel in the POST, and another tenant's match nothing:
    # tests/trials/test_trial_lifecycle.py.
    "clients-bulk",
    "account-alerts",  # the signed-in admin's own choice
    "webhooks-home",  # a redirect to the admin's own reseller's page
}


def _console_patterns():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern

    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "api/")) or pattern.name in NO_OBJECT:
            continue
        yield route, pattern


CONSOLE_PATTERNS = sorted(
    (route, pattern.name, sorted(pattern.pattern.converters))
    for route, pattern in _console_patterns()
)


def test_the_walk_covers_the_console():
    names = {name for _, name, _ in CONSOLE_PATTERNS}
    # A sample of what must be there; any URL added later is walked too.
    assert {
        "reseller-pane",
        "customer-pane",
        "client-pane",
        "tree-children",
        "client-add",
        "customer-delete",
        "client-delete",
        "admin-remove",
        "email-retry",
        "customer-history",
    } <= names
    assert all(params for _, _, params in CONSOLE_PATTERNS), "every walked URL names an object"


@pytest.fixture
def world(
    reseller_a,
    alice,
    sub_reseller_a,
    sam,
    customer_a_east,
    customer_a1,
    reseller_b,
    bob,
    customer_b1,
    client_b1,
    root,
):
    """Alpha West: a sibling of sam's Alpha East, with a customer, a client, an admin and
    an email; Bravo's customer gets an email too."""
    west = services.create_reseller(reseller_a, name="Alpha West", acting_user=None, origin="test")
    west_customer = services.create_customer(
        west,
        name="West Works",
        contact_email="it@westworks.example",
        auto_add_clients=True,
        acting_user=None,
        origin="test",
    )
    west_client = client_services.create_client(
        west_customer, securecloud_id="w1@west.example", acting_user=None, origin="test"
    )
    wendy = memberships.add_reseller_admin(
        west, username="wendy", password="Wendy-pass-2026", acting_user=None, origin="test"
    ).user
    west_objects = _objects(west, west_customer, west_client, wendy)
    carol = memberships.add_customer_user(
        customer_a1, username="carol", password="Carol-pass-2026", acting_user=None, origin="t"
    ).user
    return {
        "alice": (alice, _objects(reseller_b, customer_b1, client_b1, bob)),
        "sam": (sam, west_objects),
        # A customer user of Acme: another customer of its own reseller's tree is foreign.
        "carol": (carol, west_objects),
    }


def _objects(reseller, customer, client, admin):
    delivery = EmailDelivery.objects.create(
        customer=customer,
        kind=EmailDelivery.Kind.WELCOME,
        recipient=customer.contact_email,
        status=EmailDelivery.Status.FAILED,
        error="refused",
    )
    return {
        "reseller": reseller,
        "customer": customer,
        "client": client,
        "pending": PendingRequest.objects.create(
            customer=customer, securecloud_id=f"waiting@{customer.code}.example", password="x"
        ),
        "webhook": Webhook.objects.create(
            reseller=reseller, url="https://192.0.2.10/in", secret="s" * 20
        ),
        "membership": admin.membership,
        "customer_user": memberships.add_customer_user(
            customer,
            username=f"user-of-{customer.code}",
            password="Customer-pass-2026",
            acting_user=None,
            origin="test",
        ).user.membership,
        "delivery": delivery,
        "invitation": invitations.invite_admin(
            reseller,
            email="invited@example.com",
            role="technician",
            acting_user=None,
            origin="test",
        ).invitation,
        "api_key": api_keys.create_api_key(
            reseller, name="Isolation", role="administrator", acting_user=None, origin="test"
        ).api_key,
    }


def _url(route, name, params, objects):
    kwargs = {}
    for param in params:
        if param == "delivery_code":
            kwargs[param] = objects["delivery"].code
        elif param == "kind":
            kwargs[param] = "failed"
        elif param == "code":
            kind = {
                "resellers": "reseller",
                "customers": "customer",
                "clients": "client",
                "tree": "customer",
                "admins": "membership",
                "customer-users": "customer_user",
                "invitations": "invitation",
                "api-keys": "api_key",
                "pending": "pending",
                "webhooks": "webhook",
            }[route.split("/", 1)[0]]
            kwargs[param] = objects[kind].code
        else:  # pragma: no cover - a new kind of parameter must be taught to this test
            raise AssertionError(f"teach the isolation test the parameter {param!r} of {name}")
    return reverse(name, kwargs=kwargs)


def _database_fingerprint() -> str:
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label in {"sessions", "axes", "admin"}:
            continue
        for row in model.objects.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.mark.parametrize("actor", ["alice", "sam", "carol"])
def test_another_tenants_objects_answer_404_on_every_url(client, world, actor):
    user, foreign = world[actor]
    nowhere = _nonexistent()
    client.force_login(user)
    form = {
        "confirm": foreign["client"].securecloud_id,
        "days": "5",
        "name": "Hijacked",
        "action": "send",
        "customer": str(foreign["customer"].code),
    }
    before = _database_fingerprint()
    for route, name, params in CONSOLE_PATTERNS:
        url = _url(route, name, params, foreign)
        missing = _url(route, name, params, nowhere)
        for method in ("get", "post"):
            answer = getattr(client, method)(url, form if method == "post" else None)
            # A GET-only page may refuse POST with 405 before looking anything up; what
            # matters is that another tenant's object answers exactly like no object.
            assert answer.status_code in {404, 405}, (actor, method, url, answer.status_code)
            assert answer.status_code == getattr(client, method)(missing).status_code, url
    assert _database_fingerprint() == before


def _nonexistent():
    class Missing:
        def __init__(self):
            self.code = uuid.uuid4()
            self.securecloud_id = "nobody@nowhere.example"

    return {
        kind: Missing()
        for kind in (
            "reseller",
            "customer",
            "client",
            "membership",
            "customer_user",
            "delivery",
            "invitation",
            "api_key",
            "pending",
            "webhook",
        )
    }


def test_a_signed_out_visitor_is_sent_to_sign_in_everywhere(client, world):
    _, foreign = world["alice"]
    for route, name, params in CONSOLE_PATTERNS:
        url = _url(route, name, params, foreign)
        for response in (client.get(url), client.post(url, {})):
            if response.status_code == 405:
                continue
            assert response.status_code == 302, (url, response.status_code)
            assert response["Location"].startswith("/login/"), url


def test_the_superuser_reaches_every_object_page(client, world, root):
    _, objects = world["alice"]
    client.force_login(root)
    for route, name, params in CONSOLE_PATTERNS:
        url = _url(route, name, params, objects)
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        assert response.status_code != 404, url


def test_search_never_shows_another_tenants_customers_or_clients(client, world):
    client.force_login(world["alice"][0])
    for term in ["Bolt", "b1@bolt", "bolt.example"]:
        html = client.get(reverse("search"), {"q": term}).content.decode()
        assert "b1@bolt.example" not in html and ">Bolt<" not in html
    client.force_login(world["sam"][0])
    html = client.get(reverse("search"), {"q": "West"}).content.decode()
    assert "West Works" not in html and "w1@west.example" not in html


def test_the_move_client_choices_never_offer_another_tenants_customer(
    client, world, customer_a1, client_a1
):
    client.force_login(world["alice"][0])
    html = client.get(reverse("client-move", args=[client_a1.code]), {"q": ""}).content.decode()
    assert "Bolt" not in html
    bolt = Node.objects.get(name="Bolt")
    response = client.post(
        reverse("client-move", args=[client_a1.code]), {"customer": str(bolt.code)}
    )
    assert response.status_code in {200, 404}
    client_a1.refresh_from_db()
    assert client_a1.customer == customer_a1


def test_tree_expands_list_only_the_users_own_children(client, world, reseller_a, customer_a1):
    client.force_login(world["sam"][0])
    response = client.get(reverse("tree-children", args=[reseller_a.code]), HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    client.force_login(world["alice"][0])
    html = client.get(
        reverse("tree-children", args=[reseller_a.code]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Acme" in html and "Alpha West" in html and "Bolt" not in html
    assert Client.objects.filter(securecloud_id="b1@bolt.example").exists()
