"""A customer user's pages cost no more queries than an Administrator's, and as many
with 500 clients as with 5 (the permission check reads the cached membership)."""

from django.urls import reverse

from clients.models import Client
from hierarchy import customer_user_settings
from tests.hierarchy.test_views_queries import LARGE, SMALL, add_clients, measure


def _counts(http, user, customer):
    http.force_login(user)
    http.get("/")  # warm the session
    first = Client.objects.filter(customer=customer).order_by("securecloud_id")[0]
    pages = {
        "customer pane": reverse("customer-pane", args=[customer.code]),
        "client pane": reverse("client-pane", args=[first.code]),
        "customer history": reverse("customer-history", args=[customer.code]),
        "customer users": reverse("customer-users", args=[customer.code]),
        "search": reverse("search") + "?q=acme",
    }
    return {name: measure(http, url)[0] for name, url in pages.items()}


def test_a_customer_users_pages_cost_what_an_administrators_do(
    client, alice, carol, reseller_a, customer_a1
):
    customer_user_settings.set_customer_user_settings(
        reseller_a,
        customers_may_add_clients=True,
        require_two_factor_customer_users=False,
        acting_user=None,
        origin="test",
    )
    add_clients(customer_a1, SMALL)
    small = _counts(client, carol, customer_a1)
    admin = _counts(client, alice, customer_a1)
    assert all(small[name] <= admin[name] for name in small), (small, admin)
    add_clients(customer_a1, LARGE - SMALL, start=SMALL)
    assert _counts(client, carol, customer_a1) == small
