"""The performance shape of the console: the number of SQL queries of each page is the
same with 5 and with 500 customers and clients, no query loads every client, and the
console home stays small however many customers a reseller has."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from hierarchy.models import Node

SMALL, LARGE = 5, 500


def add_customers(reseller, count: int, start: int = 0) -> None:
    """Customers in bulk (the services insert one at a time), then renumber the tree."""
    Node.objects.bulk_create(
        Node(
            kind=Node.Kind.CUSTOMER,
            parent=reseller,
            name=f"Customer {i:04}",
            contact_email=f"c{i}@example.com",
            registration_key=f"key-{reseller.pk}-{i}",
            tree_id=reseller.tree_id,
            lft=0,
            rght=0,
            level=reseller.level + 1,
        )
        for i in range(start, start + count)
    )
    Node.objects.partial_rebuild(reseller.tree_id)


def add_clients(customer, count: int, start: int = 0) -> None:
    ends = timezone.now() + timedelta(days=30)
    Client.objects.bulk_create(
        Client(
            customer=customer,
            securecloud_id=f"client{i:04}@{customer.pk}.example",
            plan=Client.Plan.TRIAL,
            trial_ends_at=ends,
            last_backup_status="failed" if i % 3 == 0 else "success",
        )
        for i in range(start, start + count)
    )


def measure(http, url: str, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url, **headers)
    assert response.status_code == 200, url
    return len(queries), queries.captured_queries, response


@pytest.fixture
def pages(reseller_a, customer_a1, client_a1):
    def urls():
        first_client = Client.objects.filter(customer=customer_a1).order_by("securecloud_id")[0]
        return {
            "console home": ("/", {}),
            "reseller pane page 2": (
                reverse("reseller-pane", args=[reseller_a.code]) + "?page=2&sort=-clients",
                {},
            ),
            "customer pane": (reverse("customer-pane", args=[customer_a1.code]), {}),
            "client pane": (reverse("client-pane", args=[first_client.code]), {}),
            "tree expand reseller": (
                reverse("tree-children", args=[reseller_a.code]),
                {"HTTP_HX_REQUEST": "true"},
            ),
            "tree expand customer": (
                reverse("tree-children", args=[customer_a1.code]),
                {"HTTP_HX_REQUEST": "true"},
            ),
            "search": ("/search/?q=client", {"HTTP_HX_REQUEST": "true"}),
            "health list": (reverse("health-list", args=[reseller_a.code, "failed"]), {}),
        }

    return urls


def test_query_counts_do_not_grow_with_the_data(alice_client, reseller_a, customer_a1, pages):
    add_customers(reseller_a, SMALL)
    add_clients(customer_a1, SMALL)
    reseller_a.refresh_from_db()
    alice_client.get("/")  # warm the session
    small = {
        name: measure(alice_client, url, **headers)[0] for name, (url, headers) in pages().items()
    }

    add_customers(reseller_a, LARGE - SMALL, start=SMALL)
    add_clients(customer_a1, LARGE - SMALL, start=SMALL)
    large = {}
    for name, (url, headers) in pages().items():
        count, queries, _ = measure(alice_client, url, **headers)
        large[name] = count
        for query in queries:
            sql = query["sql"].upper()
            # No query reads every client: client rows come a page at a time.
            if sql.startswith("SELECT") and 'FROM "CLIENTS_CLIENT"' in sql.split(" WHERE ")[0]:
                assert "LIMIT" in sql or "COUNT(" in sql or " IN (" in sql, (name, sql)
    assert large == small
    assert max(large.values()) <= 11, large  # ten for the page, one for the brand


def test_console_home_stays_small_with_many_customers(alice_client, reseller_a):
    add_customers(reseller_a, LARGE)
    response = alice_client.get("/")
    page = response.content.decode()
    assert len(response.content) < 120_000
    assert "Customer 0000" in page and "Customer 0024" in page
    assert "Customer 0030" not in page  # later customers are a page or "Show more" away
    assert "Show more" in page
    assert f">{LARGE}</span>" in page  # the table still says how many there are
