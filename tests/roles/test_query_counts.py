"""The role checks add no query: each console page costs a Technician, a Read-only and a
Billing admin as many queries as an Administrator, with 5 and with 500 customers and
clients (tests/hierarchy/test_views_queries.py holds the Administrator's counts)."""

import pytest
from django.urls import reverse

from clients.models import Client
from hierarchy import memberships
from tests.conftest import PASSWORD
from tests.hierarchy.test_views_queries import LARGE, SMALL, add_clients, add_customers, measure


def _pages(reseller_a, customer_a1):
    first_client = Client.objects.filter(customer=customer_a1).order_by("securecloud_id")[0]
    return {
        "console home": "/",
        "reseller pane page 2": reverse("reseller-pane", args=[reseller_a.code])
        + "?page=2&sort=-clients",
        "customer pane": reverse("customer-pane", args=[customer_a1.code]),
        "client pane": reverse("client-pane", args=[first_client.code]),
        "health list": reverse("health-list", args=[reseller_a.code, "failed"]),
        "customer history": reverse("customer-history", args=[customer_a1.code]),
    }


def _counts(http, user, pages):
    http.force_login(user)
    http.get("/")  # warm the session (and the backup health snapshot)
    return {name: measure(http, url)[0] for name, url in pages.items()}


@pytest.mark.parametrize("role", ["technician", "read_only", "billing"])
def test_each_role_costs_the_queries_of_an_administrator_at_5_and_500(
    client, alice, reseller_a, customer_a1, client_a1, role
):
    other = memberships.add_reseller_admin(
        reseller_a,
        username=f"{role}-admin",
        password=PASSWORD,
        role=role,
        acting_user=None,
        origin="test",
    ).user
    add_customers(reseller_a, SMALL)
    add_clients(customer_a1, SMALL)
    pages = _pages(reseller_a, customer_a1)
    small = _counts(client, other, pages)
    assert small == _counts(client, alice, pages)

    add_customers(reseller_a, LARGE - SMALL, start=SMALL)
    add_clients(customer_a1, LARGE - SMALL, start=SMALL)
    large = _counts(client, other, pages)
    assert large == small
    assert large == _counts(client, alice, pages)
