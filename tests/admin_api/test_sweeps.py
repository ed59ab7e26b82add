"""The admin API's two sweeps, walked from its own OpenAPI document so that a new
operation is covered the day it is added:

- tenancy: Bravo Storage's key gets 404 on every operation that names one of Alpha
  Backup's objects (in the path, in the body or as a filter), by every method, and
  nothing changes;
- roles: a Read-only key gets 403 on every write, and nothing changes.
"""

import hashlib

import pytest
from django.apps import apps

from securecloud.api.api import openapi_document
from securecloud.events import webhooks
from securecloud.usage import prices
from tests.admin_api.conftest import API

pytestmark = pytest.mark.django_db

OPERATIONS = sorted(
    (method, path.removeprefix(API))
    for path, methods in openapi_document()["paths"].items()
    for method in methods
    if path.startswith(API)
)
WRITES = [(method, path) for method, path in OPERATIONS if method != "get"]


def _kind(path: str) -> str:
    """The kind of object a path names: the segment before its {id}, else its first."""
    parts = path.strip("/").split("/")
    return parts[parts.index("{id}") - 1] if "{id}" in parts else parts[0]


def _database_digest() -> str:
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label in {"sessions", "axes", "admin"}:
            continue
        # When a key was last used changes with every request, by design.
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "last_used_at"]
        for row in model.objects.order_by("pk").values_list(*fields):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _bodies(objects):
    """A valid body for each write (valid for the objects' own tenant)."""
    return {
        ("post", "/resellers"): {"name": "New Sub", "parent": str(objects["resellers"].code)},
        ("patch", "/resellers/{id}"): {"name": "Renamed"},
        ("post", "/customers"): {
            "name": "New Customer",
            "contact_email": "new@customer.example",
            "reseller": str(objects["resellers"].code),
        },
        ("patch", "/customers/{id}"): {"name": "Renamed", "trial_days": 5},
        ("post", "/customers/{id}/regenerate-registration-key"): {},
        ("post", "/customers/{id}/send-welcome-email"): {},
        ("post", "/clients"): {
            "customer": str(objects["customers"].code),
            "securecloud_id": "new@client.example",
            "password": "Sweep-pass-2026",
        },
        ("patch", "/clients/{id}"): {"name": "Renamed"},
        ("post", "/clients/{id}/switch-to-paid"): {},
        ("post", "/clients/{id}/extend-trial"): {"days": 5},
        ("post", "/clients/{id}/disable"): {},
        ("post", "/clients/{id}/enable"): {},
        ("post", "/clients/{id}/reset-password"): {"password": "Sweep-pass-2026"},
        ("post", "/clients/{id}/move"): {"customer": str(objects["other_customer"].code)},
        ("post", "/webhooks"): {
            "url": "http://127.0.0.1:9/hook",
            "secret": "a-shared-secret-of-32-characters",
            "reseller": str(objects["resellers"].code),
        },
        ("patch", "/webhooks/{id}"): {"enabled": False},
        ("post", "/webhooks/{id}/test"): {},
        ("put", "/usage/resellers/{id}/prices"): {
            "per_gb_month": "0.05",
            "per_paid_client": "2",
            "currency": "EUR",
        },
    }


def _send(api, method, path, objects, body=None):
    url = path.replace("{id}", str(objects[_kind(path)].code)) if "{id}" in path else path
    if method == "get":
        return api.get(url)
    if method == "delete":
        return api.delete(url)
    return getattr(api, method)(url, body)


@pytest.fixture
def alpha_objects(settings, sub_reseller_a, customer_a1, client_a1, customer_a_east):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the sweeps' webhook posts to a closed local port
    webhook = webhooks.create_webhook(
        sub_reseller_a,
        url="http://127.0.0.1:9/hook",
        secret="a-shared-secret-of-32-characters",
        acting_user=None,
        origin="test",
    )
    prices.set_prices(
        sub_reseller_a,
        per_gb_month="0.05",
        per_paid_client="1",
        currency="EUR",
        acting_user=None,
        origin="test",
    )
    return {
        "resellers": sub_reseller_a,
        "customers": customer_a1,
        "clients": client_a1,
        "other_customer": customer_a_east,
        "audit-events": customer_a1,
        "webhooks": webhook,
    }


def test_every_write_has_a_body_in_the_sweeps(alpha_objects):
    bodies = _bodies(alpha_objects)
    assert {op for op in WRITES if op[0] != "delete"} == set(bodies)
    assert len(OPERATIONS) >= 20


def test_another_tenants_key_gets_404_on_every_object(bravo_api, alpha_objects, client_b1):
    bodies = _bodies(alpha_objects)
    wrong = []
    for method, path in OPERATIONS:
        if "{id}" not in path:
            continue
        before = _database_digest()
        answer = _send(bravo_api, method, path, alpha_objects, bodies.get((method, path)))
        if answer.status_code != 404:
            wrong.append((method, path, answer.status_code))
        if before != _database_digest():
            wrong.append((method, path, "changed the database"))
    assert wrong == []


def test_another_tenants_objects_in_bodies_and_filters_answer_404(
    bravo_api, alpha_objects, customer_b1, client_b1
):
    """Bravo's own operations naming one of Alpha's objects: as if it did not exist."""
    bodies = _bodies(alpha_objects)
    before = _database_digest()
    in_bodies = [
        ("post", "/resellers", bodies[("post", "/resellers")]),
        ("post", "/customers", bodies[("post", "/customers")]),
        ("post", "/clients", bodies[("post", "/clients")]),
        ("post", f"/clients/{client_b1.code}/move", bodies[("post", "/clients/{id}/move")]),
    ]
    for method, path, body in in_bodies:
        assert getattr(bravo_api, method)(path, body).status_code == 404, path
    assert (
        bravo_api.get("/customers", {"reseller": alpha_objects["resellers"].code}).status_code
        == 404
    )
    assert (
        bravo_api.get("/clients", {"customer": alpha_objects["customers"].code}).status_code == 404
    )
    events = bravo_api.get("/audit-events", {"object": alpha_objects["customers"].code})
    assert events.status_code == 200 and events.json()["results"] == []
    assert before == _database_digest()


def test_lists_show_nothing_of_another_tenant(bravo_api, alpha_objects, customer_b1, client_b1):
    alpha_ids = {str(obj.code) for obj in alpha_objects.values()}
    for path in ("/resellers", "/customers", "/clients", "/audit-events"):
        answer = bravo_api.get(path)
        assert answer.status_code == 200
        shown = answer.content.decode()
        assert not any(code in shown for code in alpha_ids), path
        assert answer.json()["results"], path  # Bravo's own are there


def test_a_read_only_key_gets_403_on_every_write(read_only_api, alpha_objects):
    bodies = _bodies(alpha_objects)
    wrong = []
    for method, path in WRITES:
        before = _database_digest()
        answer = _send(read_only_api, method, path, alpha_objects, bodies.get((method, path)))
        if answer.status_code != 403:
            wrong.append((method, path, answer.status_code))
        elif answer["Content-Type"] != "application/problem+json":
            wrong.append((method, path, "not a problem"))
        if before != _database_digest():
            wrong.append((method, path, "changed the database"))
    assert wrong == []


def test_a_read_only_key_reads_everything_but_the_webhooks(read_only_api, alpha_objects):
    """Webhooks are an Administrator's setting, as on the Webhooks page (their URLs
    may carry a receiver's token)."""
    for method, path in OPERATIONS:
        if method == "get":
            expected = 403 if path.startswith("/webhooks") else 200
            assert _send(read_only_api, method, path, alpha_objects).status_code == expected, path


@pytest.mark.parametrize(
    "role_api, allowed",
    [
        ("technician_api", {"/customers", "/clients"}),
        ("billing_api", set()),
    ],
)
def test_each_role_writes_what_the_table_allows(request, role_api, allowed, alpha_objects):
    """A Technician manages customers and clients but deletes nothing and manages no
    resellers; Billing writes nothing (the same table as the console's)."""
    api = request.getfixturevalue(role_api)
    bodies = _bodies(alpha_objects)
    for method, path in WRITES:
        answer = _send(api, method, path, alpha_objects, bodies.get((method, path)))
        may = method != "delete" and "/" + _kind(path) in allowed
        assert (answer.status_code != 403) == may, (role_api, method, path, answer.status_code)
