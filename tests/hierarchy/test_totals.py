"""Counters kept on customers (client count, storage used), the backup-health snapshot,
and the search's minimum length: what keeps the console fast at 100,000 clients."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clients import services as client_services
from clients.models import Client
from hierarchy import services
from hierarchy.models import Node
from securecloud.mail.models import HealthSnapshot


def _count(customer):
    customer.refresh_from_db()
    return customer.client_count


def test_client_count_follows_create_move_and_delete(customer_a1, customer_b1):
    first = client_services.create_client(
        customer_a1,
        securecloud_id="one@a.example",
        password="password-1",
        acting_user=None,
        origin="test",
    )
    client_services.create_client(
        customer_a1,
        securecloud_id="two@a.example",
        password="password-2",
        acting_user=None,
        origin="test",
    )
    assert _count(customer_a1) == 2
    client_services.move_client(first, customer_b1, acting_user=None, origin="test")
    assert (_count(customer_a1), _count(customer_b1)) == (1, 1)
    client_services.delete_client(first, acting_user=None, origin="test")
    assert _count(customer_b1) == 0


def test_client_count_follows_imports(customer_a1, reseller_a, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text(
        "securecloud_id,customer,password\n"
        + "".join(f"c{i}@acme.example,Acme,password-{i:03}\n" for i in range(7))
    )
    call_command("import_clients", str(path), "--reseller", reseller_a.name, stdout=StringIO())
    assert _count(customer_a1) == 7
    other = services.create_customer(
        reseller_a, name="Other", contact_email="o@x.example", acting_user=None, origin="test"
    )
    path.write_text("securecloud_id,customer\nc0@acme.example,Other\nc1@acme.example,Other\n")
    call_command(
        "import_clients", str(path), "--reseller", reseller_a.name, "--update", stdout=StringIO()
    )
    assert (_count(customer_a1), _count(other)) == (5, 2)


def test_the_customers_table_sorts_by_the_kept_count(alice_client, reseller_a, customer_a1):
    busy = services.create_customer(
        reseller_a,
        name="Busy",
        contact_email="b@x.example",
        auto_add_clients=True,
        acting_user=None,
        origin="test",
    )
    for i in range(3):
        client_services.create_client(
            busy, securecloud_id=f"busy{i}@x.example", acting_user=None, origin="test"
        )
    html = alice_client.get(
        reverse("reseller-pane", args=[reseller_a.code]), {"sort": "-clients"}
    ).content.decode()
    table = html[html.index('id="customers-heading"') :]
    assert table.index("Busy") < table.index("Acme")


def test_the_silent_count_is_a_snapshot_at_most_a_minute_old(
    alice_client, reseller_a, customer_a1, client_a1
):
    url = reverse("reseller-pane", args=[reseller_a.code])
    Client.objects.filter(pk=client_a1.pk).update(last_success_at=timezone.now())
    alice_client.get(url)
    snapshot = HealthSnapshot.objects.get(reseller=reseller_a)
    assert snapshot.stale == 0
    Client.objects.filter(pk=client_a1.pk).update(last_success_at=None)
    alice_client.get(url)
    assert HealthSnapshot.objects.get(reseller=reseller_a).stale == 0  # still fresh
    HealthSnapshot.objects.update(computed_at=timezone.now() - timedelta(minutes=2))
    html = alice_client.get(url).content.decode()
    assert HealthSnapshot.objects.get(reseller=reseller_a).stale == 1
    assert "No successful backup in 24 hours: <strong>1</strong>" in html


def test_search_asks_for_three_characters(alice_client, customer_a1):
    html = alice_client.get(reverse("search"), {"q": "Ac"}).content.decode()
    assert "Type at least 3 characters to search." in html
    html = alice_client.get(reverse("search"), {"q": "Acm"}).content.decode()
    assert "Acme" in html


def test_a_deleted_reseller_takes_its_snapshot_with_it(alice_client, reseller_a):
    east = services.create_reseller(reseller_a, name="Short-lived", acting_user=None, origin="test")
    alice_client.get(reverse("reseller-pane", args=[east.code]))
    assert HealthSnapshot.objects.filter(reseller=east).exists()
    Node.objects.filter(pk=east.pk).delete()
    assert not HealthSnapshot.objects.filter(reseller_id=east.pk).exists()


def test_a_client_that_never_backed_up_is_silent_in_the_console_and_the_report(
    alice_client, reseller_a, customer_a1, client_a1
):
    from securecloud.mail import reports

    html = alice_client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert "No successful backup in 24 hours: <strong>1</strong>" in html
    report = reports.customer_report(customer_a1, reports.DAILY, timezone.now())
    assert [line.flagged for line in report.lines] == [True]
