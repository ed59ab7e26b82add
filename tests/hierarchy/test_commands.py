"""manage.py create_reseller_admin and the demo loader."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from hierarchy.models import Membership, Node


def _run(*args, **kwargs):
    out = StringIO()
    call_command("create_reseller_admin", *args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


def test_creates_the_top_level_reseller_and_its_first_admin(db, monkeypatch):
    monkeypatch.setenv("RESELLER_ADMIN_PASSWORD", "A-good-pass-2026")
    output = _run(
        "--reseller", "HEROware", "--username", "hero", "--email", "h@example.com", "--noinput"
    )
    assert "Created top-level reseller HEROware" in output
    reseller = Node.objects.resellers().get(name="HEROware")
    assert reseller.parent is None
    user = get_user_model().objects.get(username="hero")
    assert user.check_password("A-good-pass-2026") and not user.is_staff
    assert Membership.objects.get(user=user).reseller == reseller


def test_uses_an_existing_top_level_reseller_whatever_its_case(reseller_a, monkeypatch):
    monkeypatch.setenv("RESELLER_ADMIN_PASSWORD", "A-good-pass-2026")
    output = _run("--reseller", "alpha BACKUP", "--username", "second", "--noinput")
    assert "Created top-level" not in output
    assert Membership.objects.get(user__username="second").reseller == reseller_a
    assert Node.objects.resellers().count() == 1


def test_never_adds_the_admin_to_a_sub_reseller_in_a_tenants_tree(sub_reseller_a, monkeypatch):
    # Alpha's admins named a sub-reseller "Alpha East"; a new tenant of that name gets
    # a top-level reseller of its own, not a login inside Alpha's tree.
    monkeypatch.setenv("RESELLER_ADMIN_PASSWORD", "A-good-pass-2026")
    output = _run("--reseller", "alpha east", "--username", "eastco", "--noinput")
    assert "Created top-level reseller alpha east" in output
    reseller = Membership.objects.get(user__username="eastco").reseller
    assert reseller.parent is None and reseller.tree_id != sub_reseller_a.tree_id
    assert Node.objects.resellers().count() == 3


def test_noinput_needs_the_password_in_the_environment(db, monkeypatch):
    monkeypatch.delenv("RESELLER_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="RESELLER_ADMIN_PASSWORD"):
        _run("--reseller", "HEROware", "--username", "hero", "--noinput")
    assert not Node.objects.exists()


def test_a_taken_username_or_weak_password_is_a_clear_error_and_writes_nothing(alice, monkeypatch):
    monkeypatch.setenv("RESELLER_ADMIN_PASSWORD", "A-good-pass-2026")
    with pytest.raises(CommandError, match="username: This username is taken"):
        _run("--reseller", "New Reseller", "--username", "ALICE", "--noinput")
    assert not Node.objects.filter(name="New Reseller").exists()
    monkeypatch.setenv("RESELLER_ADMIN_PASSWORD", "123")
    with pytest.raises(CommandError, match="password"):
        _run("--reseller", "New Reseller", "--username", "newbie", "--noinput")
    assert not Node.objects.filter(name="New Reseller").exists()


def test_the_demo_loads_heroware_with_abc_electric_and_is_idempotent(db):
    call_command("setup_demo", stdout=StringIO())
    call_command("setup_demo", stdout=StringIO())
    abc = Node.objects.customers().get(name="ABC Electric")
    assert abc.parent.name == "HEROware" and abc.auto_add_clients and abc.email_reports
    assert abc.clients.count() == 3
    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()
    assert Membership.objects.get(user__username="heroware-admin").reseller.name == "HEROware"
