"""The audit log: every change through the services is recorded with who, when, where
and the fields before and after, in the change's own transaction."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from clients import services as client_services
from hierarchy import memberships, services
from hierarchy.models import AuditEvent


def _last(action):
    return AuditEvent.objects.filter(action=action).latest("at", "pk")


def test_creating_a_customer_records_who_from_where_and_its_settings(alice, reseller_a):
    customer = services.create_customer(
        reseller_a,
        name="Logged",
        contact_email="l@example.com",
        acting_user=alice,
        origin="console 10.1.1.1",
    )
    event = _last("customer.created")
    assert event.actor == alice and event.actor_label == "alice"
    assert event.origin == "console 10.1.1.1"
    assert event.object_code == customer.code and event.reseller == reseller_a
    assert event.changes["name"] == [None, "Logged"]
    assert event.changes["usage_space_bytes"] == [None, 10 * 10**9]


def test_an_edit_records_only_the_changed_fields_before_and_after(alice, customer_a1):
    services.update_customer(
        customer_a1, contact_name="New Contact", acting_user=alice, origin="test"
    )
    assert _last("customer.edited").changes == {"contact_name": ["Ann Acme", "New Contact"]}


@pytest.mark.parametrize(
    ("action", "change"),
    [
        (
            "customer.auto_authorization",
            lambda c, u: services.set_auto_authorization(c, True, acting_user=u, origin="test"),
        ),
        (
            "customer.registration_key_regenerated",
            lambda c, u: services.regenerate_registration_key(c, acting_user=u, origin="test"),
        ),
    ],
)
def test_customer_actions_are_recorded(alice, customer_a1, action, change):
    change(customer_a1, alice)
    event = _last(action)
    assert event.actor == alice and event.object_code == customer_a1.code
    assert customer_a1.registration_key not in str(event.changes)


def test_client_lifecycle_is_recorded(alice, client_a1, customer_a1, reseller_a):
    other = services.create_customer(
        reseller_a, name="Other", contact_email="o@example.com", acting_user=None, origin="test"
    )
    client_services.switch_to_paid(client_a1, acting_user=alice, origin="test")
    assert _last("client.switched_to_paid").changes["plan"] == ["trial", "paid"]
    client_services.set_client_password(
        client_a1, "another-pass-1", acting_user=alice, origin="test"
    )
    assert "another-pass-1" not in str(_last("client.password_reset").changes)
    client_services.disable_client(client_a1, acting_user=alice, origin="test")
    assert _last("client.disabled").changes == {"status": ["pending", "disabled"]}
    client_services.move_client(client_a1, other, acting_user=alice, origin="test")
    assert _last("client.moved").changes == {"customer": ["Acme", "Other"]}
    client_services.delete_client(client_a1, acting_user=alice, origin="test")
    deleted = _last("client.deleted")
    assert deleted.changes["securecloud_id"] == ["a1@acme.example", None]
    assert deleted.object_code == client_a1.code


def test_a_deleted_customer_keeps_its_last_state_in_the_log(alice, reseller_a):
    customer = services.create_customer(
        reseller_a, name="Gone", contact_email="g@example.com", acting_user=None, origin="test"
    )
    services.delete_customer(customer, acting_user=alice, origin="test")
    event = _last("customer.deleted")
    assert event.changes["name"] == ["Gone", None]
    assert event.reseller == reseller_a


def test_an_agent_auto_add_is_recorded_with_the_agent_as_actor(customer_b1):
    client_services.create_client(
        customer_b1, securecloud_id="auto@bolt.example", origin="agent 192.0.2.7", acting_user=None
    )
    event = _last("client.created")
    assert event.actor is None and event.actor_label == "agent"
    assert event.origin == "agent 192.0.2.7"


def test_admin_logins_added_and_removed_are_recorded(alice, reseller_a):
    user = memberships.add_reseller_admin(
        reseller_a,
        username="newadmin",
        email="n@example.com",
        password=memberships.FirstSignIn.EMAIL_LINK,
        acting_user=alice,
        origin="test",
    ).user
    assert _last("admin.added").changes["username"] == [None, "newadmin"]
    memberships.remove_reseller_admin(user.membership, acting_user=alice, origin="test")
    assert _last("admin.removed").changes == {"username": ["newadmin", None]}


def test_a_rolled_back_change_leaves_no_record(alice, customer_a1):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.set_auto_authorization(customer_a1, True, acting_user=alice, origin="test")
        raise RuntimeError("the surrounding work failed")
    assert AuditEvent.objects.count() == before


def test_a_refused_change_leaves_no_record(alice, customer_a1, client_a1):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        services.delete_customer(customer_a1, acting_user=alice, origin="test")
    assert AuditEvent.objects.count() == before


def test_history_pages_show_the_objects_changes(alice_client, alice, customer_a1, client_a1):
    client_services.switch_to_paid(client_a1, acting_user=alice, origin="console 10.0.0.5")
    html = alice_client.get(f"/clients/{client_a1.code}/history/").content.decode()
    assert "Switched to Paid" in html and "10.0.0.5" in html
    html = alice_client.get(f"/customers/{customer_a1.code}/history/").content.decode()
    assert "Switched to Paid" in html and "Customer added" in html
    html = alice_client.get(f"/resellers/{customer_a1.parent.code}/history/").content.decode()
    assert "Customer added" in html


def test_history_is_scoped_like_everything_else(
    client, alice, bob, sam, customer_a1, client_a1, reseller_a, customer_b1
):
    client.force_login(bob)
    for path in [
        f"/clients/{client_a1.code}/history/",
        f"/customers/{customer_a1.code}/history/",
        f"/resellers/{reseller_a.code}/history/",
    ]:
        assert client.get(path).status_code == 404
    client.force_login(alice)
    html = client.get(f"/resellers/{reseller_a.code}/history/").content.decode()
    assert "Acme" in html and "Bolt" not in html
    client.force_login(sam)
    assert client.get(f"/resellers/{reseller_a.code}/history/").status_code == 404


def test_history_needs_sign_in_and_is_read_only(client, alice, customer_a1):
    response = client.get(f"/customers/{customer_a1.code}/history/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(alice)
    assert client.post(f"/customers/{customer_a1.code}/history/").status_code == 405


def test_the_audit_log_is_read_only_in_the_django_admin(root_client, alice, customer_a1):
    services.set_auto_authorization(customer_a1, True, acting_user=alice, origin="test")
    event = _last("customer.auto_authorization")
    assert root_client.get("/admin/hierarchy/auditevent/").status_code == 200
    assert root_client.get("/admin/hierarchy/auditevent/add/").status_code == 403
    response = root_client.post(f"/admin/hierarchy/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_each_import_run_is_one_record_with_its_counts(reseller_a, customer_a1, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "clients.csv"
    path.write_text(
        "securecloud_id,customer,password\n"
        "one@acme.example,Acme,password-one\n"
        "two@acme.example,Acme,password-two\n"
    )
    call_command("import_clients", str(path), "--reseller", "Alpha Backup", stdout=StringIO())
    event = _last("import.clients")
    assert event.reseller == reseller_a and event.object_type == "import"
    assert event.changes["created"] == [None, 2]
    assert event.origin == "command import_clients"
    assert AuditEvent.objects.filter(action="import.clients").count() == 1


def test_a_dry_run_or_failed_import_records_nothing(reseller_a, customer_a1, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    path = tmp_path / "customers.csv"
    path.write_text("name,contact_email\nNew One,new@example.com\nBad,not-an-email\n")
    with pytest.raises(CommandError):
        call_command(
            "import_customers",
            str(path),
            "--reseller",
            "Alpha Backup",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    path.write_text("name,contact_email\nNew One,new@example.com\n")
    call_command(
        "import_customers",
        str(path),
        "--reseller",
        "Alpha Backup",
        "--dry-run",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    assert not AuditEvent.objects.filter(action__startswith="import.").exists()
    call_command("import_customers", str(path), "--reseller", "Alpha Backup", stdout=StringIO())
    assert _last("import.customers").changes["created"] == [None, 1]


def test_an_agent_auto_add_through_the_api_records_the_agents_address(client, customer_b1):
    response = client.post(
        "/api/v1/agent/connect",
        {
            "securecloud_id": "new-laptop@bolt.example",
            "password": "agent-pass-123",
            "registration_key": customer_b1.registration_key,
        },
        content_type="application/json",
        REMOTE_ADDR="192.0.2.9",
    )
    assert response.status_code == 201
    event = _last("client.created")
    assert event.object_repr == "new-laptop@bolt.example"
    assert event.actor is None and event.origin == "agent 192.0.2.9"


def test_an_agent_claiming_a_client_without_password_is_recorded(client, customer_b1):
    client_services.create_client(
        customer_b1, securecloud_id="claim@bolt.example", acting_user=None, origin="test"
    )
    response = client.post(
        "/api/v1/agent/connect",
        {
            "securecloud_id": "claim@bolt.example",
            "password": "agent-pass-123",
            "registration_key": customer_b1.registration_key,
        },
        content_type="application/json",
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 200
    event = _last("client.claimed_by_agent")
    assert event.origin == "agent 192.0.2.44"
    assert event.changes == {"password": ["not set", "set"], "status": ["pending", "active"]}
