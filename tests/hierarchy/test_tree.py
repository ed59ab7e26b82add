"""The nested-set tree stays valid after every operation, serially and under concurrency."""

import threading

import pytest
from django.db import close_old_connections, connection

from hierarchy import services
from hierarchy.models import Node
from tests.tree_invariants import assert_tree_valid


def test_each_top_level_reseller_is_its_own_tree(reseller_a, reseller_b):
    assert reseller_a.tree_id != reseller_b.tree_id


def test_the_tree_stays_valid_through_every_operation(reseller_a, reseller_b):
    east = services.create_reseller(reseller_a, name="East", acting_user=None, origin="test")
    deep = services.create_reseller(east, name="Deeper", acting_user=None, origin="test")
    customers = [
        services.create_customer(
            parent, name=f"C{i}", contact_email=f"c{i}@example.com", acting_user=None, origin="test"
        )
        for i, parent in enumerate([reseller_a, east, deep, reseller_b, east, reseller_a])
    ]
    assert_tree_valid()
    services.move_customer(customers[0], deep, acting_user=None, origin="test")
    assert_tree_valid()
    services.move_customer(customers[3], reseller_a, acting_user=None, origin="test")
    assert_tree_valid()
    services.move_customer(customers[1], reseller_b, acting_user=None, origin="test")
    assert_tree_valid()
    services.delete_customer(customers[2], acting_user=None, origin="test")
    assert_tree_valid()
    assert Node.objects.get(name="Deeper").get_descendant_count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_leave_a_valid_tree():
    """Threads (each with its own database connection) create customers under one reseller
    and new top-level resellers at the same time."""
    hub = services.create_reseller(None, name="Hub", acting_user=None, origin="test")
    errors = []
    start = threading.Barrier(6)

    def add_customers(worker):
        try:
            start.wait()
            for i in range(5):
                services.create_customer(
                    hub,
                    name=f"W{worker}-{i}",
                    contact_email=f"w{worker}.{i}@example.com",
                    acting_user=None,
                    origin="test",
                )
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    def add_roots(worker):
        try:
            start.wait()
            for i in range(3):
                services.create_reseller(
                    None, name=f"Root {worker}-{i}", acting_user=None, origin="test"
                )
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=add_customers, args=(w,)) for w in range(4)]
    threads += [threading.Thread(target=add_roots, args=(w,)) for w in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    assert errors == []
    assert Node.objects.customers().filter(parent__name="Hub").count() == 20
    assert Node.objects.resellers().filter(parent=None).count() == 7
    assert len(set(Node.objects.filter(parent=None).values_list("tree_id", flat=True))) == 7
    assert_tree_valid()
