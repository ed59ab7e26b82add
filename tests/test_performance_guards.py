"""Performance shape beyond tests/hierarchy/test_views_queries.py (no timings).

That file covers the console home, reseller, customer and client panes, tree expansion,
search and the failed-backups list at 5 and at 500 rows. Here: the pages it does not
visit (history pages, the email report preview, the other health lists, a sub-reseller's
pane, forms that list customers), the agent API's status and backup calls, the rule that
no console page reads a whole reseller's clients, and the size of pages with many
customers or sub-resellers. Each test measures with little data, adds much more, and
measures again: the number of SQL queries must not move.
"""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import BackupReport, Client
from hierarchy import services
from hierarchy.models import AuditEvent, Node

SMALL, LARGE = 3, 120
BACKUPS = "/api/v1/agent/backups"
STATUS = "/api/v1/agent/status"
CONNECT = "/api/v1/agent/connect"


# --- Data in bulk (the services write one row at a time) --------------------------------


def add_customers(reseller, count: int, start: int = 0) -> list[Node]:
    Node.objects.bulk_create(
        Node(
            kind=Node.Kind.CUSTOMER,
            parent=reseller,
            name=f"Bulk Customer {i:04}",
            contact_email=f"bulk{i}@example.com",
            registration_key=f"bulk-{reseller.pk}-{i}",
            usage_space_bytes=1000,
            used_bytes=2000 if i % 2 else 0,  # every other one over its usage space
            tree_id=reseller.tree_id,
            lft=0,
            rght=0,
            level=reseller.level + 1,
        )
        for i in range(start, start + count)
    )
    Node.objects.partial_rebuild(reseller.tree_id)
    return list(Node.objects.filter(parent=reseller, name__startswith="Bulk Customer"))


def add_clients(customer, count: int, start: int = 0) -> None:
    now = timezone.now()
    Client.objects.bulk_create(
        Client(
            customer=customer,
            securecloud_id=f"bulk{i:04}@{customer.pk}.example",
            plan=Client.Plan.TRIAL,
            trial_ends_at=now + timedelta(days=30),
            status=Client.Status.ACTIVE,
            last_backup_status="failed" if i % 3 == 0 else "success",
            last_success_at=now - timedelta(days=3),
            created_at=now - timedelta(days=10),
        )
        for i in range(start, start + count)
    )


def add_reports(customer, per_client: int) -> None:
    now = timezone.now()
    BackupReport.objects.bulk_create(
        BackupReport(
            client=client,
            started_at=now - timedelta(hours=n + 2),
            finished_at=now - timedelta(hours=n + 1),
            status="success" if n % 2 else "failed",
            used_bytes=1000,
            created_at=now,
        )
        for client in Client.objects.filter(customer=customer)
        for n in range(per_client)
    )


def add_events(node, count: int) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor_label="bulk",
            action="customer.edited",
            object_type=node.kind,
            object_code=node.code,
            object_repr=node.name,
            reseller=node if node.is_reseller else node.parent,
            customer_code=node.code if node.is_customer else None,
            changes={"name": ["a", "b"]},
        )
        for _ in range(count)
    )


def queries_of(http, url: str, **headers):
    # Warm: the first view of a reseller pane counts its backup health and stores the
    # snapshot that later views (for a minute) read instead.
    http.get(url, **headers)
    with CaptureQueriesContext(connection) as captured:
        response = http.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured), captured.captured_queries, response


def unbounded_client_reads(queries) -> list[str]:
    """SELECTs on clients_client that could return every client of a reseller: no LIMIT,
    no COUNT, and not narrowed to one customer, one client or a list of ids."""
    found = []
    for query in queries:
        sql = query["sql"].upper()
        if not sql.startswith("SELECT") or 'FROM "CLIENTS_CLIENT"' not in sql.split(" WHERE ")[0]:
            continue
        where = sql.partition(" WHERE ")[2]
        bounded = (
            " LIMIT " in sql
            or "COUNT(" in sql
            or '"CLIENTS_CLIENT"."CUSTOMER_ID" = ' in where
            or '"CLIENTS_CLIENT"."CUSTOMER_ID" IN (' in where
            or '"CLIENTS_CLIENT"."ID" = ' in where
            or '"CLIENTS_CLIENT"."ID" IN (' in where
            or '"CLIENTS_CLIENT"."CODE" = ' in where
        )
        if not bounded:
            found.append(query["sql"])
    return found


# --- Console pages the other file does not visit ----------------------------------------


@pytest.fixture
def world(reseller_a, sub_reseller_a, customer_a1, customer_a_east, client_a1):
    """Alpha with a sub-reseller; `grow()` adds customers, clients, reports and history."""

    def grow(count: int, start: int = 0):
        add_customers(reseller_a, count, start)
        add_customers(sub_reseller_a, count, start)
        add_clients(customer_a1, count, start)
        add_clients(customer_a_east, count, start)
        add_reports(customer_a1, 2)
        for node in (reseller_a, sub_reseller_a, customer_a1, customer_a_east):
            add_events(node, count)

    return grow


def console_pages(reseller_a, sub_reseller_a, customer_a1, customer_a_east, client_a1):
    east_client = Client.objects.filter(customer=customer_a_east).order_by("securecloud_id")[0]
    htmx = {"HTTP_HX_REQUEST": "true"}
    return {
        "reseller history": (reverse("reseller-history", args=[reseller_a.code]), {}),
        "sub-reseller history": (reverse("reseller-history", args=[sub_reseller_a.code]), {}),
        "customer history": (reverse("customer-history", args=[customer_a1.code]), {}),
        "client history": (reverse("client-history", args=[client_a1.code]), {}),
        "report preview daily": (
            reverse("email-report-preview", args=[customer_a1.code]) + "?period=daily",
            {},
        ),
        "report preview weekly": (
            reverse("email-report-preview", args=[customer_a1.code]) + "?period=weekly",
            {},
        ),
        "sub-reseller pane": (reverse("reseller-pane", args=[sub_reseller_a.code]), {}),
        "sub-reseller pane by clients": (
            reverse("reseller-pane", args=[sub_reseller_a.code]) + "?sort=-clients",
            {},
        ),
        "sub-reseller pane by usage": (
            reverse("reseller-pane", args=[sub_reseller_a.code]) + "?sort=-used",
            {},
        ),
        "customer pane in a sub-reseller": (
            reverse("customer-pane", args=[customer_a_east.code]),
            {},
        ),
        "client pane in a sub-reseller": (reverse("client-pane", args=[east_client.code]), {}),
        "tree expand sub-reseller": (reverse("tree-children", args=[sub_reseller_a.code]), htmx),
        "tree page 2": (
            reverse("tree-children", args=[customer_a1.code]) + "?page=2",
            htmx,
        ),
        "health stale": (reverse("health-list", args=[reseller_a.code, "stale"]), {}),
        "health over quota": (reverse("health-list", args=[reseller_a.code, "over-quota"]), {}),
        "search full page": ("/search/?q=bulk", {}),
        "search no match": ("/search/?q=nothing-like-this", htmx),
        "customer edit": (reverse("customer-edit", args=[customer_a1.code]), {}),
        "customer delete": (reverse("customer-delete", args=[customer_a1.code]), {}),
        "customer add": (reverse("customer-add", args=[reseller_a.code]), {}),
        "reseller edit": (reverse("reseller-edit", args=[sub_reseller_a.code]), {}),
        "client add": (reverse("client-add", args=[customer_a1.code]), {}),
        "client edit": (reverse("client-edit", args=[client_a1.code]), {}),
        "client move": (reverse("client-move", args=[client_a1.code]), {}),
        "client delete": (reverse("client-delete", args=[client_a1.code]), {}),
    }


def test_console_pages_query_counts_do_not_grow(
    alice_client, world, reseller_a, sub_reseller_a, customer_a1, customer_a_east, client_a1
):
    cast = (reseller_a, sub_reseller_a, customer_a1, customer_a_east, client_a1)
    world(SMALL)
    alice_client.get("/")  # the session's first refresh is not part of any page
    small = {
        name: queries_of(alice_client, url, **headers)[0]
        for name, (url, headers) in console_pages(*cast).items()
    }
    world(LARGE - SMALL, start=SMALL)
    large = {}
    for name, (url, headers) in console_pages(*cast).items():
        count, queries, _ = queries_of(alice_client, url, **headers)
        large[name] = count
        assert unbounded_client_reads(queries) == [], name
    assert large == small


# Ten for the page itself, one for the login's brand (the branding rows above its
# reseller: a separate small query is cheaper than folding them into the membership's).
MAX_PAGE_QUERIES = 11


def _counts(http, pages: dict) -> dict:
    http.get("/")
    return {name: queries_of(http, url)[0] for name, url in pages.items()}


def test_pages_of_the_resellers_own_customers_stay_within_eleven_queries(
    alice_client, world, reseller_a, customer_a1, client_a1
):
    world(LARGE)
    counts = _counts(
        alice_client,
        {
            "reseller pane": reverse("reseller-pane", args=[reseller_a.code]),
            "customer pane": reverse("customer-pane", args=[customer_a1.code]),
            "client pane": reverse("client-pane", args=[client_a1.code]),
            "customer history": reverse("customer-history", args=[customer_a1.code]),
            "report preview": reverse("email-report-preview", args=[customer_a1.code]),
        },
    )
    assert max(counts.values()) <= MAX_PAGE_QUERIES, counts


def test_pages_one_sub_reseller_down_stay_within_eleven_queries(
    alice_client, world, sub_reseller_a, customer_a_east
):
    world(LARGE)
    east_client = Client.objects.filter(customer=customer_a_east).order_by("securecloud_id")[0]
    counts = _counts(
        alice_client,
        {
            "sub-reseller pane": reverse("reseller-pane", args=[sub_reseller_a.code]),
            "customer pane": reverse("customer-pane", args=[customer_a_east.code]),
            "client pane": reverse("client-pane", args=[east_client.code]),
        },
    )
    assert max(counts.values()) <= MAX_PAGE_QUERIES, counts


def test_customer_form_and_move_lists_stay_bounded(alice_client, world, client_a1):
    """Forms that offer a choice of customers do not list all of them."""
    world(LARGE)
    add_customers(client_a1.customer.parent, 200, start=LARGE)
    _, _, response = queries_of(alice_client, reverse("client-move", args=[client_a1.code]))
    # Of 320 customers, a page of the tree and a page of choices at most (a name may show
    # more than once).
    listed = set(re.findall(rb"Bulk Customer \d+", response.content))
    assert len(listed) <= 2 * 60, len(listed)


def test_reseller_pane_with_many_sub_resellers_stays_small(alice_client, reseller_a):
    for i in range(60):
        services.create_reseller(reseller_a, name=f"Region {i:02}", acting_user=None, origin="test")
    add_customers(reseller_a, 300)
    _, _, response = queries_of(alice_client, "/")
    assert len(response.content) < 120_000
    assert b"Region 00" in response.content
    assert b"Show more" in response.content  # the tree pages its children


def test_console_home_size_does_not_grow_with_customers(alice_client, reseller_a):
    add_customers(reseller_a, 100)
    first = len(queries_of(alice_client, "/")[2].content)
    add_customers(reseller_a, 900, start=100)
    second = len(queries_of(alice_client, "/")[2].content)
    # Names differ in length a little; a thousand customers do not make a longer page.
    assert second < first * 1.1, (first, second)


# --- Agent API ---------------------------------------------------------------------------


def agent_token(http, customer, securecloud_id: str) -> str:
    response = http.generic(
        "POST",
        CONNECT,
        json.dumps(
            {
                "securecloud_id": securecloud_id,
                "password": "agent-password-1",
                "registration_key": customer.registration_key,
            }
        ),
        content_type="application/json",
        REMOTE_ADDR="198.51.100.20",
    )
    assert response.status_code in (200, 201), response.content
    return response.json()["token"]


def agent_queries(http, token: str):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "REMOTE_ADDR": "198.51.100.20"}
    # A backup that just finished (reports may not end before their client existed).
    finished = timezone.now().replace(microsecond=0) - timedelta(seconds=5)
    report = {
        "started_at": (finished - timedelta(minutes=1)).isoformat(),
        "finished_at": finished.isoformat(),
        "status": "success",
        "used_bytes": 1000 + BackupReport.objects.count(),  # a change every time
    }
    with CaptureQueriesContext(connection) as backups:
        response = http.generic(
            "POST", BACKUPS, json.dumps(report), content_type="application/json", **auth
        )
    assert response.status_code == 201, response.content
    with CaptureQueriesContext(connection) as status:
        response = http.get(STATUS, **auth)
    assert response.status_code == 200, response.content
    return backups.captured_queries, status.captured_queries


def test_agent_status_and_backups_queries_constant_and_few(client, customer_a_east):
    token = agent_token(client, customer_a_east, "first@east.example")
    small_backups, small_status = agent_queries(client, token)

    # Many more clients, tokens and reports around it.
    add_clients(customer_a_east, LARGE)
    add_reports(customer_a_east, 3)
    for n in range(5):
        agent_token(client, customer_a_east, f"other{n}@east.example")
    large_backups, large_status = agent_queries(client, token)

    assert len(large_backups) == len(small_backups)
    assert len(large_status) == len(small_status)
    # Status: the token lookup (with client, customer and reseller) and nothing else
    # within a minute of the last call. Backups: the lookup, then the write: one
    # statement on PostgreSQL; on SQLite the client, the customer's total, the report
    # and the client again (4), plus a savepoint and its release inside the test's
    # transaction.
    assert len(large_status) <= 1, [q["sql"] for q in large_status]
    most = 2 if connection.vendor == "postgresql" else 7
    assert len(large_backups) <= most, [q["sql"] for q in large_backups]
    for query in large_backups + large_status:
        sql = query["sql"].upper()
        assert "BACKUPREPORT" not in sql or sql.startswith("INSERT"), query["sql"]
    assert unbounded_client_reads(large_backups + large_status) == []


def test_the_unbounded_read_check_catches_a_whole_reseller(reseller_a, customer_a1, client_a1):
    """The guard above is not vacuous: reading a reseller's clients is flagged, one page
    or one customer's clients is not."""
    with CaptureQueriesContext(connection) as whole:
        list(Client.objects.within(reseller_a))
    with CaptureQueriesContext(connection) as bounded:
        list(Client.objects.within(reseller_a).order_by("securecloud_id")[:25])
        list(Client.objects.filter(customer=customer_a1))
    assert len(unbounded_client_reads(whole.captured_queries)) == 1
    assert unbounded_client_reads(bounded.captured_queries) == []
