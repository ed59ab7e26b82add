"""Everything at once: writers in parallel threads, each with its own database
connection, create customers under one reseller, create top-level resellers, auto-add
clients through the agent API (racing for the same IDs), switch plans while trials are
extended, and report backups. Afterwards: no 500, no duplicate SecureCloud ID, no lost
update, and a valid tree."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client as DjangoClient
from django.urls import reverse

from clients import services as client_services
from clients.models import Client
from hierarchy import memberships, services
from hierarchy.models import Node
from tests.agent.conftest import Agent
from tests.tree_invariants import assert_tree_valid

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_every_kind_of_writer_at_once(settings):
    settings.AGENT_CONNECT_MAX_FAILURES_PER_ID = 1000
    settings.AGENT_CONNECT_MAX_FAILURES_PER_IP = 1000
    # Every connect gets its turn at once: this is about the writers' locks, not the
    # connect queue (which would answer 503 to a connect waiting on SQLite's write lock).
    settings.AGENT_CONNECT_CONCURRENCY = 64
    hub = services.create_reseller(None, name="Hub", acting_user=None, origin="test")
    auto = services.create_customer(
        hub,
        name="Auto",
        contact_email="auto@example.com",
        auto_add_clients=True,
        acting_user=None,
        origin="test",
    )
    trials = [
        client_services.create_client(
            auto,
            securecloud_id=f"trial{i}@auto.example",
            password="trial-password",
            acting_user=None,
            origin="test",
        )
        for i in range(8)
    ]
    reporter_tokens = [
        Agent(DjangoClient()).token(f"trial{i}@auto.example", "trial-password") for i in (0, 1)
    ]
    workers = []
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(9)

    def worker(job):
        def run():
            try:
                start.wait(timeout=30)
                job()
            except BaseException as exc:  # noqa: BLE001 - asserted below
                with lock:
                    errors.append(exc)
            finally:
                connection.close()

        workers.append(threading.Thread(target=run))

    def add_customers(tag):
        for i in range(5):
            services.create_customer(
                hub,
                name=f"{tag}-{i}",
                contact_email=f"{tag}{i}@x.example",
                acting_user=None,
                origin="test",
            )

    def add_roots():
        for i in range(3):
            services.create_reseller(None, name=f"Top {i}", acting_user=None, origin="test")

    def auto_add(ip):
        agent = Agent(DjangoClient(), ip=ip)
        for i in range(6):
            response = agent.connect(
                f"new{i}@auto.example", "agent-password", auto.registration_key
            )
            with lock:
                statuses.append(response.status_code)

    def switch_plans():
        for client in trials:
            client_services.switch_to_paid(client, acting_user=None, origin="test")

    def extend_trials():
        for client in trials:
            try:
                client_services.extend_trial(client, 7, acting_user=None, origin="test")
            except ValidationError:
                pass  # already paid: the switch got there first, as it may

    def report(token):
        agent = Agent(DjangoClient())
        for size in range(1, 11):
            response = agent.report(token, used_bytes=size * 1000)
            with lock:
                statuses.append(response.status_code)

    worker(lambda: add_customers("A"))
    worker(lambda: add_customers("B"))
    worker(add_roots)
    worker(lambda: auto_add("192.0.2.1"))
    worker(lambda: auto_add("192.0.2.2"))
    worker(switch_plans)
    worker(extend_trials)
    worker(lambda: report(reporter_tokens[0]))
    worker(lambda: report(reporter_tokens[1]))
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=180)

    assert errors == []
    assert 500 not in statuses and set(statuses) <= {200, 201}, statuses
    # Customers and roots: all there, one tree per root, nested sets intact.
    assert Node.objects.customers().filter(parent=hub).count() == 11
    assert Node.objects.filter(parent=None).count() == 4
    assert_tree_valid()
    # The racing auto-adds created each ID exactly once.
    for i in range(6):
        assert Client.objects.filter(securecloud_id=f"new{i}@auto.example").count() == 1
    # Every plan switch held, whatever the trial extensions did meanwhile.
    assert set(
        Client.objects.filter(pk__in=[c.pk for c in trials]).values_list("plan", "trial_ends_at")
    ) == {("paid", None)}
    # No lost update: the customer's storage is the sum of its clients' last reports.
    auto.refresh_from_db()
    assert auto.used_bytes == 2 * 10 * 1000
    assert sum(Client.objects.filter(customer=auto).values_list("used_bytes", flat=True)) == (
        auto.used_bytes
    )


def test_a_report_during_a_customer_move_is_not_lost(customer_a1, client_a1, sub_reseller_a):
    # django-mptt's move saves the customer's whole row: a report that moved the
    # customer's storage total after the move read the row must not be written over.
    import time
    from datetime import UTC, datetime

    from clients import agent_store
    from hierarchy.models import GB

    read_done = threading.Event()
    real_check = services.customer_name_taken
    errors: list[BaseException] = []

    def slow_check(*args, **kwargs):
        read_done.set()  # the move has read the customer row
        time.sleep(0.5)  # the report has time to try its write now
        return real_check(*args, **kwargs)

    def move():
        try:
            services.move_customer(customer_a1, sub_reseller_a, acting_user=None, origin="test")
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    def report():
        try:
            read_done.wait(timeout=30)
            now = datetime.now(UTC)
            agent_store.write_backup(
                client_a1.pk, started_at=now, finished_at=now, status="success",
                used_bytes=5 * GB, files=None, message="", now=now,
            )  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    services.customer_name_taken = slow_check
    try:
        threads = [threading.Thread(target=move), threading.Thread(target=report)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        services.customer_name_taken = real_check
    assert errors == []
    customer_a1.refresh_from_db()
    assert customer_a1.parent == sub_reseller_a
    assert customer_a1.used_bytes == Client.objects.get(pk=client_a1.pk).used_bytes == 5 * GB


def test_a_sub_resellers_admin_sees_only_its_subtree_while_the_parent_rewrites_the_tree(
    reseller_a, alice
):
    # Alice deletes old customers left of Alpha East and adds customers to Alpha West
    # (left of it too): each write shifts Alpha East's lft/rght. Meanwhile sam, Alpha
    # East's admin, opens Zed Corp's pane (Alpha's, right of Alpha East: never his), his
    # own customer's pane, and adds customers. He never sees Zed Corp, and his own pages
    # and adds never answer 404.
    from hierarchy.models import GB
    from tests.conftest import PASSWORD

    old = [
        services.create_customer(
            reseller_a,
            name=f"Old {i:03}",
            contact_email=f"o{i}@x.example",
            acting_user=None,
            origin="test",
        )
        for i in range(40)
    ]
    west = services.create_reseller(reseller_a, name="Alpha West", acting_user=None, origin="test")
    east = services.create_reseller(reseller_a, name="Alpha East", acting_user=None, origin="test")
    widgets = services.create_customer(
        east, name="East Widgets", contact_email="w@x.example", acting_user=None, origin="test"
    )
    zed = services.create_customer(
        reseller_a, name="Zed Corp", contact_email="z@x.example", acting_user=None, origin="test"
    )
    sam = memberships.add_reseller_admin(
        east, username="sam", password=PASSWORD, acting_user=None, origin="test"
    ).user
    zed_url = reverse("customer-pane", args=[zed.code])
    own_url = reverse("customer-pane", args=[widgets.code])
    add_url = reverse("customer-add", args=[east.code])

    done, ready = threading.Event(), threading.Barrier(3)
    errors: list[BaseException] = []
    seen: dict[str, list[int]] = {"zed": [], "own": [], "add": []}
    lock = threading.Lock()

    def guarded(job):
        def run():
            try:
                job()
            except BaseException as exc:  # noqa: BLE001 - asserted below
                errors.append(exc)
            finally:
                connection.close()

        return threading.Thread(target=run)

    def parent_rewrites():
        try:
            ready.wait(timeout=60)
            for i, customer in enumerate(old):
                services.delete_customer(customer, acting_user=alice, origin="test")
                services.create_customer(
                    west,
                    name=f"West {i:03}",
                    contact_email=f"w{i}@x.example",
                    acting_user=alice,
                    origin="test",
                )
        finally:
            done.set()

    def sam_reads():
        http = DjangoClient()
        http.force_login(sam)
        ready.wait(timeout=60)
        while True:
            finished = done.is_set()  # one more round after the last write
            for key, url in (("zed", zed_url), ("own", own_url)):
                status = http.get(url).status_code
                with lock:
                    seen[key].append(status)
            if finished:
                break

    def sam_adds():
        http = DjangoClient()
        http.force_login(sam)
        ready.wait(timeout=60)
        i = 0
        while i == 0 or not done.is_set():
            response = http.post(
                add_url,
                {
                    "name": f"Sam's {i:03}",
                    "contact_email": f"s{i}@x.example",
                    "usage_space_bytes": str(10 * GB),
                    "trial_days": "30",
                },
            )
            i += 1
            with lock:
                seen["add"].append(response.status_code)

    threads = [guarded(parent_rewrites), guarded(sam_reads), guarded(sam_adds)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert seen["zed"] and set(seen["zed"]) == {404}, seen["zed"]
    assert seen["own"] and set(seen["own"]) == {200}, seen["own"]
    assert seen["add"] and set(seen["add"]) == {302}, seen["add"]
    assert_tree_valid()
