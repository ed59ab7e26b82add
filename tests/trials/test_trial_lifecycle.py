"""The trial lifecycle: a trial past its end shows Expired (not Active) in every list,
pane and export; the reseller pane counts trials ending within 7 days and expired
trials; several clients at once are switched to Paid or get a longer trial."""

import csv
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clients import services as client_services
from clients.models import Client
from hierarchy import memberships
from hierarchy.models import Membership
from tests.conftest import PASSWORD


def end_trial(client: Client, delta: timedelta) -> Client:
    """Test data: the trial ends `delta` from now (negative: it has ended)."""
    Client.objects.filter(pk=client.pk).update(trial_ends_at=timezone.now() + delta)
    client.refresh_from_db()
    return client


@pytest.fixture
def expired(client_a1):
    return end_trial(client_a1, timedelta(days=-1))


@pytest.fixture
def ending(customer_a1):
    client = client_services.create_client(
        customer_a1,
        securecloud_id="ending@acme.example",
        password="client-pass-3",
        acting_user=None,
        origin="test",
    )
    return end_trial(client, timedelta(days=3))


def test_an_expired_trial_shows_expired_in_the_customer_list_the_pane_and_the_tree(
    alice_client, expired, ending
):
    html = alice_client.get(reverse("customer-pane", args=[expired.customer.code])).content
    html = html.decode()
    rows = html[html.index("clients-table") :]
    expired_row = rows[rows.index("a1@acme.example") : rows.index("ending@acme.example")]
    assert "Expired" in expired_row and "Active" not in expired_row
    ending_row = rows[rows.index("ending@acme.example") :]
    assert "Expired" not in ending_row[: ending_row.index("</tr>")]

    pane = alice_client.get(reverse("client-pane", args=[expired.code])).content.decode()
    assert "status-expired" in pane
    tree = alice_client.get(
        reverse("tree-children", args=[expired.customer.code]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'aria-label="Expired"' in tree or "Expired" in tree


def test_a_disabled_client_shows_disabled_even_when_its_trial_is_over(expired):
    client_services.disable_client(expired, acting_user=None, origin="test")
    expired.refresh_from_db()
    assert expired.shown_status() == "disabled"
    assert expired.status == Client.Status.DISABLED  # the stored status is untouched


def test_the_export_says_expired_and_imports_again_unchanged(expired, reseller_a, tmp_path):
    call_command("export_accounts", "--reseller", "Alpha Backup", "--out", str(tmp_path))
    with open(tmp_path / "clients.csv", newline="") as handle:
        rows = {row["securecloud_id"]: row for row in csv.DictReader(handle)}
    assert rows["a1@acme.example"]["status"] == "expired"
    stored = Client.objects.get(pk=expired.pk).status
    call_command(
        "import_clients", str(tmp_path / "clients.csv"), "--reseller", "Alpha Backup", "--update"
    )
    again = Client.objects.get(pk=expired.pk)
    assert again.status == stored and again.shown_status() == "expired"


def test_the_reseller_pane_counts_trials_ending_and_expired(alice_client, expired, ending):
    html = alice_client.get(reverse("reseller-pane", args=[expired.customer.parent.code]))
    html = html.content.decode()
    assert "Trials ending within 7 days: <strong>1</strong>" in html
    assert "Expired trials: <strong>1</strong>" in html
    listing = alice_client.get(
        reverse("health-list", args=[expired.customer.parent.code, "expired-trials"])
    ).content.decode()
    assert "a1@acme.example" in listing and "ending@acme.example" not in listing
    listing = alice_client.get(
        reverse("health-list", args=[expired.customer.parent.code, "trials-ending"])
    ).content.decode()
    assert "ending@acme.example" in listing and "a1@acme.example" not in listing


def test_another_resellers_trials_are_not_counted(alice_client, reseller_a, client_b1):
    end_trial(client_b1, timedelta(days=-2))
    html = alice_client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert "Expired trials: <strong>0</strong>" in html


def test_switch_several_clients_to_paid_from_the_customer_list(alice_client, expired, ending):
    back = reverse("customer-pane", args=[expired.customer.code])
    response = alice_client.post(
        reverse("clients-bulk"),
        {"action": "paid", "clients": [expired.code, ending.code], "back": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    assert set(Client.objects.values_list("plan", flat=True)) == {"paid"}
    assert Client.objects.get(pk=expired.pk).shown_status() == "pending"  # no longer Expired


def test_extend_several_trials_from_the_expired_list(alice_client, expired, ending):
    before = ending.trial_ends_at
    response = alice_client.post(
        reverse("clients-bulk"), {"action": "extend", "days": "10", "clients": [expired.code]}
    )
    assert response.status_code == 302
    expired.refresh_from_db()
    assert expired.trial_ends_at > timezone.now() + timedelta(days=9)
    assert Client.objects.get(pk=ending.pk).trial_ends_at == before  # not selected


def test_bulk_actions_never_reach_another_tenants_clients(bob_client, expired):
    bob_client.post(reverse("clients-bulk"), {"action": "paid", "clients": [expired.code]})
    assert Client.objects.get(pk=expired.pk).plan == "trial"


def test_bulk_actions_need_a_selection_and_days(alice_client, expired):
    response = alice_client.post(reverse("clients-bulk"), {"action": "paid"}, follow=True)
    assert "Select one or more clients first." in response.content.decode()
    response = alice_client.post(
        reverse("clients-bulk"),
        {"action": "extend", "days": "x", "clients": [expired.code]},
        follow=True,
    )
    assert response.status_code == 200
    assert Client.objects.get(pk=expired.pk).trial_ends_at == expired.trial_ends_at


def test_a_read_only_admin_cannot_switch_clients_to_paid(client, reseller_a, expired):
    reader = memberships.add_reseller_admin(
        reseller_a,
        username="reader",
        email="reader@alpha.example",
        password=PASSWORD,
        role=Membership.Role.READ_ONLY,
        acting_user=None,
        origin="test",
    ).user
    client.force_login(reader)
    html = client.get(reverse("customer-pane", args=[expired.customer.code])).content.decode()
    assert "bulk-clients" not in html
    response = client.post(reverse("clients-bulk"), {"action": "paid", "clients": [expired.code]})
    assert response.status_code == 403
    assert Client.objects.get(pk=expired.pk).plan == "trial"
