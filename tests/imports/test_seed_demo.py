"""seed_demo: the shape asked for, valid trees, consistent totals, deterministic output."""

from django.db.models import Sum

from clients.models import BackupReport, Client
from hierarchy.models import Node
from tests.imports.helpers import assert_tree_valid, run, wipe_accounts

ARGS = (
    "--resellers",
    "2",
    "--sub-resellers",
    "3",
    "--customers",
    "7",
    "--clients-per-customer",
    "4",
    "--reports-days",
    "3",
    "--seed",
    "42",
)


def snapshot():
    nodes = list(
        Node.objects.order_by("tree_id", "lft").values_list(
            "name",
            "kind",
            "level",
            "lft",
            "rght",
            "contact_email",
            "usage_space_bytes",
            "auto_add_clients",
            "trial_days",
            "used_bytes",
        )
    )
    clients = list(
        Client.objects.order_by("securecloud_id").values_list(
            "securecloud_id", "customer__name", "name", "plan", "status", "used_bytes"
        )
    )
    return nodes, clients


def test_seed_demo_shape_and_integrity(db):
    result = run("seed_demo", *ARGS)
    assert result.ok, result.err
    tops = Node.objects.filter(parent=None).order_by("tree_id")
    assert [t.name for t in tops] == ["Demo Reseller 1", "Demo Reseller 2"]
    for top in tops:
        assert_tree_valid(top.tree_id)
        subs = Node.objects.filter(parent=top)
        assert subs.count() == 3 and all(s.is_reseller for s in subs)
        customers = Node.objects.within(top).customers()
        assert customers.count() == 7
        assert not customers.filter(parent=top).exists()  # spread over the sub-resellers
        assert customers.exclude(registration_key=None).count() == 7
    assert Client.objects.count() == 2 * 7 * 4
    # Customers' used storage is the sum of their clients'.
    for customer in Node.objects.customers():
        total = customer.clients.aggregate(t=Sum("used_bytes"))["t"] or 0
        assert customer.used_bytes == total
    # Trial clients have an end, paid ones none (the database would refuse otherwise).
    assert not Client.objects.filter(plan="trial", trial_ends_at=None).exists()
    connected = Client.objects.exclude(last_seen_at=None).count()
    assert BackupReport.objects.count() == 3 * connected > 0


def test_seed_demo_is_deterministic_and_refuses_existing_names(db):
    assert run("seed_demo", *ARGS).ok
    first = snapshot()
    again = run("seed_demo", *ARGS)
    assert not again.ok and "already exists" in again.err
    wipe_accounts()
    assert run("seed_demo", *ARGS).ok
    assert snapshot() == first
    other = run("seed_demo", *ARGS, "--prefix", "Other")
    assert other.ok, other.err
    assert Node.objects.filter(parent=None).count() == 4


def test_seed_demo_admin_logins(db):
    result = run(
        "seed_demo",
        "--customers",
        "2",
        "--clients-per-customer",
        "1",
        "--admin-password",
        "Walkthrough-7731",
    )
    assert result.ok, result.err
    top = Node.objects.get(name="Demo Reseller 1")
    assert top.memberships.get().user.username == "demo-admin-1"
