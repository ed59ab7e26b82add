"""Roles of a reseller's admins: the one table that decides, its documentation, the
role of each admin (added, changed, migrated), and the command that makes a first admin.

The console's side (every URL × every role) is tests/roles/test_url_sweep.py."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hierarchy import memberships
from hierarchy.models import AuditEvent, Membership, Node, reseller_of
from securecloud.accounts.models import Invitation
from securecloud.accounts.permissions import PERMISSIONS, Abilities, Action, may, require
from securecloud.console import history
from tests.conftest import PASSWORD
from tests.roles.documented import documented_table

Role = Membership.Role


def make_admin(reseller, username, role):
    return memberships.add_reseller_admin(
        reseller,
        username=username,
        email=f"{username}@alpha.example",
        password=PASSWORD,
        role=role,
        acting_user=None,
        origin="test",
    ).user


# --- The table ---------------------------------------------------------------------------


def test_the_documented_table_is_the_table_in_the_code():
    code = {role: {action.value for action in actions} for role, actions in PERMISSIONS.items()}
    assert documented_table() == code
    assert set(PERMISSIONS) == set(Role.values), "every role has a row"
    assert {action for actions in documented_table().values() for action in actions} <= {
        action.value for action in Action
    }


def test_an_administrator_may_do_everything_in_its_subtree(reseller_a, alice):
    assert all(may(alice, action) for action in Action)


def test_a_technician_looks_after_customers_and_clients_but_not_admins_settings_or_resellers(
    reseller_a,
):
    tina = make_admin(reseller_a, "tina", Role.TECHNICIAN)
    for action in (
        Action.VIEW,
        Action.MANAGE_CUSTOMERS,
        Action.MANAGE_CLIENTS,
        Action.SEND_EMAILS,
    ):
        assert may(tina, action), action
    for action in (
        Action.MANAGE_ADMINS,
        Action.MANAGE_SETTINGS,
        Action.MANAGE_RESELLERS,
        Action.DELETE,
    ):
        assert not may(tina, action), action


@pytest.mark.parametrize("role", [Role.READ_ONLY, Role.BILLING])
def test_read_only_and_billing_admins_see_everything_and_change_nothing(reseller_a, role):
    reader = make_admin(reseller_a, "reader", role)
    assert may(reader, Action.VIEW) and may(reader, Action.VIEW_BILLING)
    changes = [action for action in Action if action not in {Action.VIEW, Action.VIEW_BILLING}]
    assert changes and not any(may(reader, action) for action in changes)
    with pytest.raises(PermissionDenied):
        require(reader, Action.MANAGE_CLIENTS)


def test_a_superuser_has_administrator_rights_everywhere(root):
    assert all(may(root, action) for action in Action)


def test_a_login_without_a_reseller_an_inactive_admin_and_a_visitor_may_do_nothing(db, alice):
    from django.contrib.auth.models import AnonymousUser

    nobody = get_user_model().objects.create_user("nobody", password=PASSWORD)
    alice.is_active = False
    for user in (nobody, alice, AnonymousUser()):
        assert not any(may(user, action) for action in Action)


def test_asking_costs_no_query_once_the_reseller_is_known(reseller_a):
    tina = make_admin(reseller_a, "tina", Role.TECHNICIAN)
    user = get_user_model().objects.get(pk=tina.pk)
    with CaptureQueriesContext(connection) as first:
        assert reseller_of(user) == reseller_a
    with CaptureQueriesContext(connection) as later:
        for _ in range(100):
            assert may(user, Action.MANAGE_CLIENTS)
            assert not may(user, Action.MANAGE_ADMINS)
        assert Abilities(user)["send_emails"]
    assert len(first) == 1 and len(later) == 0


def test_templates_ask_by_action_name_and_an_unknown_name_is_no(reseller_a):
    tina = make_admin(reseller_a, "tina", Role.TECHNICIAN)
    can = Abilities(tina)
    assert can["manage_clients"] and not can["manage_admins"]
    assert set(can) == {action.value for action in Action}
    with pytest.raises(KeyError):
        can["launch_rockets"]


# --- Each admin's role -------------------------------------------------------------------


def test_an_admin_is_added_with_a_role_and_an_administrator_by_default(reseller_a, alice):
    assert alice.membership.role == Role.ADMINISTRATOR
    tina = make_admin(reseller_a, "tina", Role.TECHNICIAN)
    assert tina.membership.role == Role.TECHNICIAN
    event = AuditEvent.objects.filter(action="admin.added").latest("pk")
    assert event.changes["role"] == [None, "technician"]


def test_an_unknown_role_is_refused_and_nobody_is_added(reseller_a):
    with pytest.raises(ValidationError) as caught:
        make_admin(reseller_a, "eve", "owner")
    assert "role" in caught.value.message_dict
    assert not get_user_model().objects.filter(username="eve").exists()


def test_an_administrator_changes_another_admins_role_and_history_says_so(
    client, reseller_a, alice
):
    tina = make_admin(reseller_a, "tina", Role.TECHNICIAN)
    client.force_login(alice)
    response = client.post(
        reverse("admin-role", args=[tina.membership.code]), {"role": Role.READ_ONLY}
    )
    assert response.status_code == 302
    tina.membership.refresh_from_db()
    assert tina.membership.role == Role.READ_ONLY
    event = AuditEvent.objects.get(action="admin.role_changed")
    assert (event.actor, event.changes) == (alice, {"role": ["technician", "read_only"]})
    entry = history.describe(event)
    assert entry.what == "Admin's role changed"
    assert [(c.label, c.before, c.after) for c in entry.changes] == [
        ("Role", "Technician", "Read-only")
    ]
    html = client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert 'value="read_only" selected' in html


def test_the_last_administrator_cannot_lower_its_own_role(client, reseller_a, alice):
    make_admin(reseller_a, "tina", Role.TECHNICIAN)
    client.force_login(alice)
    response = client.post(
        reverse("admin-role", args=[alice.membership.code]), {"role": Role.TECHNICIAN}, follow=True
    )
    assert "would be left without an Administrator" in response.content.decode()
    alice.membership.refresh_from_db()
    assert alice.membership.role == Role.ADMINISTRATOR
    assert not AuditEvent.objects.filter(action="admin.role_changed").exists()


def test_an_administrator_lowers_its_own_role_when_another_remains(reseller_a, alice):
    make_admin(reseller_a, "ada", Role.ADMINISTRATOR)
    memberships.set_admin_role(alice.membership, Role.READ_ONLY, acting_user=alice, origin="test")
    assert Membership.objects.get(user=alice).role == Role.READ_ONLY


def test_a_sub_resellers_only_administrator_may_step_down_under_an_administrator_above(
    sub_reseller_a, sam, alice
):
    memberships.set_admin_role(sam.membership, Role.TECHNICIAN, acting_user=sam, origin="test")
    assert Membership.objects.get(user=sam).role == Role.TECHNICIAN
    # Alpha's own only Administrator has nobody above: alice stays.
    with pytest.raises(ValidationError):
        memberships.set_admin_role(alice.membership, Role.BILLING, acting_user=None, origin="test")


def test_an_unknown_role_in_the_role_form_changes_nothing(client, reseller_a, alice):
    tina = make_admin(reseller_a, "tina", Role.TECHNICIAN)
    client.force_login(alice)
    response = client.post(reverse("admin-role", args=[tina.membership.code]), {"role": "owner"})
    assert response.status_code == 302
    assert Membership.objects.get(user=tina).role == Role.TECHNICIAN


def test_the_admins_list_shows_each_role_to_those_who_cannot_change_it(client, reseller_a, alice):
    rita = make_admin(reseller_a, "rita", Role.READ_ONLY)
    client.force_login(rita)
    html = client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert "Role: <strong>Administrator</strong>" in html
    assert "Role: <strong>Read-only</strong>" in html
    assert reverse("admin-role", args=[alice.membership.code]) not in html


def test_the_invite_admin_form_chooses_the_role(client, reseller_a, alice, mailoutbox):
    client.force_login(alice)
    html = client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert 'name="role"' in html and "Read-only" in html
    client.post(
        reverse("admin-add", args=[reseller_a.code]),
        {"email": "bill@alpha.example", "role": Role.BILLING},
    )
    assert Invitation.objects.get(email="bill@alpha.example").role == Role.BILLING


def test_a_refused_page_is_a_plain_403_in_the_console_layout(client, reseller_a, customer_a1):
    client.force_login(make_admin(reseller_a, "rita", Role.READ_ONLY))
    response = client.get(reverse("customer-edit", args=[customer_a1.code]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Your role does not allow this" in html and "Sign out" in html


def test_every_role_keeps_its_own_account_pages(client, reseller_a):
    client.force_login(make_admin(reseller_a, "rita", Role.READ_ONLY))
    for name in ("account", "password_change", "two-factor-setup"):
        assert client.get(reverse(name)).status_code == 200, name


# --- The migration -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_existing_admins_become_administrators_in_the_migration():
    before = [("hierarchy", "0009_move_mail_and_accounts_models")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before[0]).apps
    reseller = old.get_model("hierarchy", "Node").objects.create(
        kind="reseller", name="Alpha Backup", tree_id=1, lft=1, rght=2, level=0
    )
    user = old.get_model("auth", "User").objects.create(username="old-admin")
    old.get_model("hierarchy", "Membership").objects.create(
        user=user, reseller=reseller, role="admin"
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    membership = Membership.objects.get(user__username="old-admin")
    assert membership.role == Role.ADMINISTRATOR
    assert Node.objects.get(pk=reseller.pk).name == "Alpha Backup"


# --- create_reseller_admin --role --------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "role"),
    [
        (None, Role.ADMINISTRATOR),
        ("technician", Role.TECHNICIAN),
        ("read-only", Role.READ_ONLY),
        ("billing", Role.BILLING),
    ],
)
def test_create_reseller_admin_takes_a_role(db, monkeypatch, capsys, given, role):
    monkeypatch.setenv("RESELLER_ADMIN_PASSWORD", PASSWORD)
    extra = ["--role", given] if given else []
    call_command(
        "create_reseller_admin",
        "--reseller",
        "Alpha Backup",
        "--username",
        "first",
        "--noinput",
        *extra,
    )
    assert Membership.objects.get(user__username="first").role == role
    assert f"({role.label})" in capsys.readouterr().out


def test_create_reseller_admin_refuses_an_unknown_role_clearly(db, monkeypatch):
    monkeypatch.setenv("RESELLER_ADMIN_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="Unknown role 'owner'.*read-only"):
        call_command(
            "create_reseller_admin",
            "--reseller",
            "Alpha",
            "--username",
            "x",
            "--noinput",
            "--role",
            "owner",
        )
    assert not get_user_model().objects.filter(username="x").exists()
    assert not Node.objects.exists()
