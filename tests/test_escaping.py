"""Names are text, on every page: markup in a reseller's, customer's or client's name
shows as the characters that were typed and never becomes an element of the page.

The attack this holds off: a sub-reseller's admin names a customer
`<i hx-post="/account/2fa/disable/" hx-trigger="load">x</i>`; if that reached a page
raw, htmx would send the POST as whoever opened the page (with the CSRF token that the
page carries for htmx), turning off the parent admin's two-factor sign-in. The plain-text
part of an email is rendered with autoescaping off (it is not HTML), so wherever it is
shown on a page it must be escaped there.
"""

import csv
import re
from datetime import timedelta
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clients import services as client_services
from clients.models import Client
from hierarchy import services
from hierarchy.models import GB, AuditEvent, Node
from securecloud.mail import reports
from securecloud.mail.welcome import build_welcome_message

MARKUP = '<i hx-post="/account/2fa/disable/" hx-trigger="load">x</i>'
SHOWN = escape(MARKUP)  # how a page shows the name: its characters, as text
# What a page must never hold: the markup as an element, in any of the names.
RAW = re.compile(r"<i\s+hx-post=")


@pytest.fixture
def hostile(reseller_a, sub_reseller_a, sam, customer_a1, client_a1):
    """Alpha East, administered by sam, is the attacker: sam names a customer, its contact
    and a client with markup. Alpha East's own name holds markup too, as a row written
    before reseller names refused it would."""
    Node.objects.filter(pk=sub_reseller_a.pk).update(name=f"East {MARKUP}")
    sub_reseller_a.refresh_from_db()
    customer = services.create_customer(
        sub_reseller_a,
        name=f"Evil {MARKUP}",
        contact_name=f"Mallory {MARKUP}",
        contact_email="it@evil.example",
        usage_space_bytes=10 * GB,
        email_reports=True,
        acting_user=sam,
        origin="console 10.0.0.9",
    )
    client = client_services.create_client(
        customer,
        securecloud_id="pc@evil.example",
        name=f"Laptop {MARKUP}",
        password="client-pass-9",
        acting_user=sam,
        origin="console 10.0.0.9",
    )
    # A failed backup, over quota: the client and customer show in the health lists.
    old = timezone.now() - timedelta(days=3)
    Client.objects.filter(pk=client.pk).update(
        last_backup_status="failed", last_backup_at=old, last_success_at=old, used_bytes=11 * GB
    )
    Node.objects.filter(pk=customer.pk).update(used_bytes=11 * GB)
    customer.refresh_from_db()
    client.refresh_from_db()
    return {"reseller": sub_reseller_a, "customer": customer, "client": client}


def page_of(http, url: str) -> str:
    response = http.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def assert_only_text(page: str, url: str = "") -> None:
    assert not RAW.search(page), f"markup from a name reached {url} as HTML"


def test_report_preview_shows_names_in_the_plain_text_part_as_text(alice_client, hostile):
    url = reverse("email-report-preview", args=[hostile["customer"].code])

    for period, label in (("daily", "Daily"), ("weekly", "Weekly")):
        page = page_of(alice_client, f"{url}?period={period}")

        assert_only_text(page, url)
        plain = re.search(r"<pre\b[^>]*>(.*?)</pre>", page, flags=re.S).group(1)
        assert f"backup report for Evil {SHOWN}" in plain
        assert f"(Laptop {SHOWN})" in plain
        assert f"Sent by East {SHOWN} through SecureCloud" in plain
        # The HTML part, as the customer will see it, shows the names as text too.
        assert f"<h1>{label} backup report for Evil {SHOWN}</h1>" in page
        assert f"<small>Laptop {SHOWN}</small>" in page


def test_report_preview_tells_htmx_to_leave_the_email_alone(alice_client, hostile):
    """The email is shown as it is sent; nothing in it is for htmx to act on."""
    url = reverse("email-report-preview", args=[hostile["customer"].code])
    page = page_of(alice_client, url)

    assert re.search(r'<div class="[^"]*report-preview[^"]*"[^>]* hx-disable', page)
    assert re.search(r"<pre\b[^>]* hx-disable", page)


HEALTH_KINDS = ("failed", "stale", "over-quota")


def test_every_console_page_shows_the_names_as_text(alice_client, hostile, reseller_a):
    reseller, customer, client = hostile["reseller"], hostile["customer"], hostile["client"]
    urls = [
        "/",
        reverse("reseller-pane", args=[reseller_a.code]),
        reverse("reseller-pane", args=[reseller.code]),
        reverse("reseller-edit", args=[reseller.code]),
        reverse("customer-add", args=[reseller.code]),
        reverse("subreseller-add", args=[reseller.code]),
        reverse("customer-pane", args=[customer.code]),
        reverse("customer-edit", args=[customer.code]),
        reverse("customer-welcome", args=[customer.code]),
        reverse("customer-delete", args=[customer.code]),
        reverse("client-add", args=[customer.code]),
        reverse("client-pane", args=[client.code]),
        reverse("client-edit", args=[client.code]),
        reverse("client-switch-to-paid", args=[client.code]),
        reverse("client-move", args=[client.code]),
        reverse("client-delete", args=[client.code]),
        reverse("reseller-history", args=[reseller_a.code]),
        reverse("reseller-history", args=[reseller.code]),
        reverse("customer-history", args=[customer.code]),
        reverse("client-history", args=[client.code]),
        reverse("email-report-preview", args=[customer.code]),
        reverse("search") + "?q=evil",
        *(reverse("health-list", args=[reseller_a.code, kind]) for kind in HEALTH_KINDS),
    ]
    # The tree's branches, which htmx asks for as the admin opens them.
    branches = [reverse("tree-children", args=[node.code]) for node in (reseller_a, reseller)]
    for url, htmx in [(url, False) for url in urls] + [(url, True) for url in urls + branches]:
        response = alice_client.get(url, headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code == 200, url
        page = response.content.decode()
        assert_only_text(page, url)
        assert SHOWN in page, f"{url} shows none of the names"


def test_a_search_for_markup_shows_it_as_text(alice_client, hostile):
    page = page_of(alice_client, reverse("search") + "?" + urlencode({"q": MARKUP}))

    assert_only_text(page)
    assert SHOWN in page


def test_history_shows_names_and_changed_values_as_text(alice_client, alice, hostile):
    customer, client = hostile["customer"], hostile["client"]
    services.update_customer(
        customer, acting_user=alice, origin="console 10.0.0.5", contact_name=f"Eve {MARKUP}"
    )
    client_services.update_client(
        client,
        acting_user=alice,
        origin="console 10.0.0.5",
        name=f"Desktop {MARKUP}",
        email="pc@evil.example",
    )

    for url in (
        reverse("customer-history", args=[customer.code]),
        reverse("client-history", args=[client.code]),
        reverse("reseller-history", args=[hostile["reseller"].code]),
    ):
        page = page_of(alice_client, url)
        assert_only_text(page, url)
        assert SHOWN in page
        assert re.search(r'<div class="table-responsive" hx-disable>', page)


def test_messages_after_a_change_show_the_name_as_text(client, sam, sub_reseller_a):
    client.force_login(sam)

    response = client.post(
        reverse("customer-add", args=[sub_reseller_a.code]),
        {
            "name": f"Evil {MARKUP}",
            "contact_email": "it@evil.example",
            "usage_space_bytes": str(10 * GB),
            "trial_days": "30",
        },
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert_only_text(page)
    assert Node.objects.filter(name=f"Evil {MARKUP}").exists()
    assert SHOWN in page


def test_the_django_admin_shows_the_names_as_text(root_client, hostile):
    reseller, customer, client = hostile["reseller"], hostile["customer"], hostile["client"]
    events = AuditEvent.objects.filter(object_repr__contains=MARKUP)
    assert events.exists()
    urls = [
        reverse("admin:hierarchy_reseller_changelist"),
        reverse("admin:hierarchy_reseller_change", args=[reseller.pk]),
        reverse("admin:hierarchy_customer_changelist"),
        reverse("admin:hierarchy_customer_change", args=[customer.pk]),
        reverse("admin:clients_client_changelist"),
        reverse("admin:clients_client_change", args=[client.pk]),
        reverse("admin:hierarchy_auditevent_changelist"),
        *(reverse("admin:hierarchy_auditevent_change", args=[event.pk]) for event in events),
        reverse("admin:hierarchy_membership_changelist"),
    ]
    for url in urls:
        page = page_of(root_client, url)
        assert_only_text(page, url)
        assert SHOWN in page, f"{url} shows none of the names"


def test_the_html_emails_show_the_names_as_text(hostile, sam):
    customer = hostile["customer"]
    report = reports.customer_report(customer, reports.DAILY, timezone.now())
    summary = reports.reseller_summary(hostile["reseller"], reports.DAILY, timezone.now())
    messages = [
        reports.report_message(report, "it@evil.example"),
        reports.summary_message(summary, "sam@alpha-east.example"),
        build_welcome_message(customer, "it@evil.example"),
    ]
    for message in messages:
        html, kind = message.alternatives[0]
        assert kind == "text/html"
        assert_only_text(html, message.subject)
        assert SHOWN in html
        # The plain-text part is text: the name as it was typed.
        assert MARKUP in message.body


def write_csv(path, rows) -> str:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


def test_imported_names_with_markup_are_kept_as_typed_and_shown_as_text(
    alice_client, reseller_a, tmp_path
):
    """A CSV import takes such names as the text they are (a name with < or > is odd but
    harmless once escaped); the console shows them as text."""
    customers = write_csv(
        tmp_path / "customers.csv",
        [
            ["name", "contact_name", "contact_email"],
            [f"Imported {MARKUP}", f"Ivy {MARKUP}", "it@imported.example"],
        ],
    )
    call_command("import_customers", customers, reseller="Alpha Backup", stdout=StringIO())
    clients = write_csv(
        tmp_path / "clients.csv",
        [
            ["securecloud_id", "customer", "name", "password"],
            ["pc@imported.example", f"Imported {MARKUP}", f"Desk {MARKUP}", "client-pass-7"],
        ],
    )
    call_command("import_clients", clients, reseller="Alpha Backup", stdout=StringIO())
    customer = Node.objects.get(name=f"Imported {MARKUP}")
    client = Client.objects.get(securecloud_id="pc@imported.example")
    assert (customer.contact_name, client.name) == (f"Ivy {MARKUP}", f"Desk {MARKUP}")

    for url in (
        reverse("reseller-pane", args=[reseller_a.code]),
        reverse("customer-pane", args=[customer.code]),
        reverse("client-pane", args=[client.code]),
        reverse("email-report-preview", args=[customer.code]),
    ):
        page = page_of(alice_client, url)
        assert_only_text(page, url)
        assert f"Imported {SHOWN}" in page, url
