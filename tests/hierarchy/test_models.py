"""The organisation tree's and the clients' rules, through the services."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clients import services as client_services
from clients.models import Client
from hierarchy import services
from hierarchy.models import DEFAULT_USAGE_SPACE, Node
from tests.tree_invariants import assert_tree_valid


def test_a_customer_cannot_hold_a_customer(customer_a1):
    with pytest.raises(ValidationError):
        services.create_customer(
            customer_a1,
            name="Nested",
            contact_email="n@example.com",
            acting_user=None,
            origin="test",
        )
    assert not Node.objects.filter(name="Nested").exists()


def test_a_customer_cannot_hold_a_reseller(customer_a1):
    with pytest.raises(ValidationError):
        services.create_reseller(
            customer_a1, name="Under a customer", acting_user=None, origin="test"
        )
    assert not Node.objects.filter(name="Under a customer").exists()


def test_a_customer_needs_a_parent_reseller_in_the_database(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Node.objects.create(kind=Node.Kind.CUSTOMER, name="Orphan", contact_email="o@example.com")


def test_a_client_needs_a_customer(reseller_a):
    with pytest.raises(ValidationError):
        client_services.create_client(
            reseller_a,
            securecloud_id="x@example.com",
            password="pw-12345678",
            acting_user=None,
            origin="test",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.create(securecloud_id="y@example.com", trial_ends_at=timezone.now())


def test_reseller_names_are_unique_whatever_their_case(reseller_a):
    with pytest.raises(ValidationError) as excinfo:
        services.create_reseller(None, name="ALPHA backup", acting_user=None, origin="test")
    assert "already exists" in str(excinfo.value)
    with pytest.raises(ValidationError):
        services.create_reseller(reseller_a, name="alpha BACKUP", acting_user=None, origin="test")
    assert Node.objects.resellers().count() == 1


def test_reseller_names_are_unique_in_the_database_too(reseller_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Node.objects.create(
            kind=Node.Kind.RESELLER, name="ALPHA BACKUP", tree_id=99, lft=1, rght=2, level=0
        )


def test_customer_names_are_unique_within_their_reseller_only(reseller_a, reseller_b, customer_a1):
    with pytest.raises(ValidationError):
        services.create_customer(
            reseller_a, name="ACME", contact_email="x@example.com", acting_user=None, origin="test"
        )
    other = services.create_customer(
        reseller_b, name="Acme", contact_email="x@example.com", acting_user=None, origin="test"
    )
    assert other.parent == reseller_b


def test_a_new_customer_takes_the_defaults_and_gets_a_registration_key(reseller_a):
    customer = services.create_customer(
        reseller_a, name="Defaults", contact_email="d@example.com", acting_user=None, origin="test"
    )
    assert customer.usage_space_bytes == DEFAULT_USAGE_SPACE == 10 * 10**9
    assert customer.auto_add_clients is False
    assert customer.email_reports is False
    assert customer.trial_days == 30
    assert len(customer.registration_key) >= 22  # at least 128 bits, URL-safe
    old_key = customer.registration_key
    services.regenerate_registration_key(customer, acting_user=None, origin="test")
    customer.refresh_from_db()
    assert customer.registration_key != old_key


def test_a_customer_needs_a_valid_contact_email(reseller_a):
    with pytest.raises(ValidationError) as excinfo:
        services.create_customer(
            reseller_a,
            name="No mail",
            contact_email="not-an-address",
            acting_user=None,
            origin="test",
        )
    assert "contact_email" in excinfo.value.message_dict


def test_securecloud_ids_differing_only_in_case_are_duplicates(client_a1, customer_b1):
    with pytest.raises(ValidationError) as excinfo:
        client_services.create_client(
            customer_b1, securecloud_id="  A1@ACME.example ", acting_user=None, origin="test"
        )
    assert "taken" in excinfo.value.message_dict["securecloud_id"][0]
    assert Client.objects.count() == 1


def test_securecloud_ids_are_stored_normalised(customer_b1):
    client = client_services.create_client(
        customer_b1, securecloud_id="  Mixed.Case@Example.COM ", acting_user=None, origin="test"
    )
    assert client.securecloud_id == "mixed.case@example.com"


@pytest.mark.parametrize(
    "bad_id", ["ab", "has space", "semi;colon", "a" * 255, "tab\tid", "two\nlines", "ünïcode"]
)
def test_malformed_securecloud_ids_are_refused(customer_b1, bad_id):
    with pytest.raises(ValidationError) as excinfo:
        client_services.create_client(
            customer_b1, securecloud_id=bad_id, acting_user=None, origin="test"
        )
    assert "securecloud_id" in excinfo.value.message_dict


def test_without_auto_authorization_a_new_client_needs_a_password(customer_a1):
    assert customer_a1.auto_add_clients is False
    with pytest.raises(ValidationError) as excinfo:
        client_services.create_client(
            customer_a1, securecloud_id="nopass@acme.example", acting_user=None, origin="test"
        )
    assert excinfo.value.message_dict["password"] == [
        "Since Auto-Authorization is turned off, you must enter a password."
    ]


def test_with_auto_authorization_a_new_client_may_wait_for_its_agent_to_set_a_password(customer_b1):
    client = client_services.create_client(
        customer_b1, securecloud_id="later@bolt.example", acting_user=None, origin="test"
    )
    assert client.has_password is False


def test_turning_auto_authorization_off_keeps_existing_clients(customer_b1, client_b1):
    services.set_auto_authorization(customer_b1, False, acting_user=None, origin="test")
    client_b1.refresh_from_db()
    assert client_b1.has_password and client_b1.customer_id == customer_b1.pk


def test_a_new_client_is_a_trial_that_ends_after_the_customers_trial_length(customer_a1):
    before = timezone.now()
    client = client_services.create_client(
        customer_a1,
        securecloud_id="trial@acme.example",
        password="pw-12345678",
        acting_user=None,
        origin="test",
    )
    assert client.plan == Client.Plan.TRIAL
    assert client.status == Client.Status.PENDING
    assert (
        before + timedelta(days=30) <= client.trial_ends_at <= timezone.now() + timedelta(days=30)
    )


def test_client_passwords_are_stored_only_as_hashes(client_a1):
    from django.contrib.auth.hashers import check_password

    assert "client-pass-1" not in client_a1.password
    assert check_password("client-pass-1", client_a1.password)


def test_switching_to_paid_clears_the_trial_end(client_a1):
    client_services.switch_to_paid(client_a1, acting_user=None, origin="test")
    client_a1.refresh_from_db()
    assert client_a1.plan == Client.Plan.PAID and client_a1.trial_ends_at is None
    assert client_a1.trial_expired() is False


def test_extending_a_trial_pushes_its_end_back(client_a1):
    end = client_a1.trial_ends_at
    client_services.extend_trial(client_a1, 14, acting_user=None, origin="test")
    client_a1.refresh_from_db()
    assert client_a1.trial_ends_at == end + timedelta(days=14)
    with pytest.raises(ValidationError):
        client_services.extend_trial(client_a1, 0, acting_user=None, origin="test")


def test_a_customer_with_clients_cannot_be_deleted(customer_a1, client_a1):
    with pytest.raises(ValidationError) as excinfo:
        services.delete_customer(customer_a1, acting_user=None, origin="test")
    assert "move them" in excinfo.value.messages[0]
    client_services.delete_client(client_a1, acting_user=None, origin="test")
    services.delete_customer(customer_a1, acting_user=None, origin="test")
    assert not Node.objects.filter(pk=customer_a1.pk).exists()
    assert_tree_valid()


def test_moving_a_customer_keeps_its_clients_and_the_trees_valid(
    customer_a1, client_a1, reseller_b
):
    moved = services.move_customer(customer_a1, reseller_b, acting_user=None, origin="test")
    assert moved.parent_id == reseller_b.pk and moved.tree_id == reseller_b.tree_id
    client_a1.refresh_from_db()
    assert client_a1.customer_id == customer_a1.pk
    assert_tree_valid()


def test_moving_a_client_moves_its_storage_with_it(customer_a1, client_a1, customer_b1):
    Client.objects.filter(pk=client_a1.pk).update(used_bytes=500)
    Node.objects.filter(pk=customer_a1.pk).update(used_bytes=500)
    client_a1.refresh_from_db()
    client_services.move_client(client_a1, customer_b1, acting_user=None, origin="test")
    customer_a1.refresh_from_db()
    customer_b1.refresh_from_db()
    assert (customer_a1.used_bytes, customer_b1.used_bytes) == (0, 500)


def test_disabling_a_client_revokes_its_agent_tokens(client_a1):
    client_a1.agent_tokens.create(digest="d" * 64)
    client_services.disable_client(client_a1, acting_user=None, origin="test")
    client_a1.refresh_from_db()
    assert client_a1.status == Client.Status.DISABLED
    assert client_a1.agent_tokens.count() == 0
    client_services.enable_client(client_a1, acting_user=None, origin="test")
    client_a1.refresh_from_db()
    assert client_a1.status == Client.Status.PENDING


def test_resetting_a_client_password_revokes_its_agent_tokens(client_a1):
    from django.contrib.auth.hashers import check_password

    client_a1.agent_tokens.create(digest="e" * 64)
    client_services.set_client_password(
        client_a1, "a-new-password", acting_user=None, origin="test"
    )
    client_a1.refresh_from_db()
    assert check_password("a-new-password", client_a1.password)
    assert client_a1.agent_tokens.count() == 0
    with pytest.raises(ValidationError):
        client_services.set_client_password(client_a1, "short", acting_user=None, origin="test")
