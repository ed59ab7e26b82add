"""The History pages read like the product: every change is a sentence in the console's
words, fields go by their labels, and sizes, switches, plans and times read as an admin
reads them, never as the codes and raw values the audit log stores."""

import re
from datetime import UTC, datetime
from html import unescape
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from clients import services as client_services
from hierarchy import services
from hierarchy.models import AuditEvent
from securecloud.mail.emails import queue_welcome_email
from tests.agent.conftest import Agent

ROOT = Path(__file__).resolve().parent.parent


def history_html(http, kind: str, code) -> str:
    response = http.get(f"/{kind}/{code}/history/")
    assert response.status_code == 200
    return response.content.decode()


def rows(html: str) -> list[str]:
    """Each table row as the admin reads it: cells split by " | ", tags gone."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        text = re.sub(r"</(td|li)>", " | ", row)
        text = unescape(re.sub(r"<[^>]+>", "", text))
        found.append(re.sub(r"\s+", " ", text).strip())
    return found


def row_with(html: str, words: str) -> str:
    matching = [row for row in rows(html) if words in row]
    assert matching, f"no row with {words!r} in {rows(html)}"
    return matching[0]


def test_switching_to_paid_reads_as_the_console_says_it(alice_client, alice, client_a1):
    client_services.switch_to_paid(client_a1, acting_user=alice, origin="console 10.0.0.5")

    html = history_html(alice_client, "clients", client_a1.code)

    row = row_with(html, "Switched to Paid")
    assert row.startswith(f"{datetime.now(UTC):%Y-%m-%d}")
    assert "| alice |" in row
    assert "Client a1@acme.example" in row
    assert "Plan: Trial → Paid" in row
    assert re.search(r"Trial ends: \d{4}-\d\d-\d\d \d\d:\d\d UTC → —", row)
    assert "Console, 10.0.0.5" in row
    assert "client.switched_to_paid" not in html
    assert "trial_ends_at" not in html


def test_a_new_customer_shows_its_settings_in_words(alice_client, customer_a1):
    html = history_html(alice_client, "customers", customer_a1.code)

    row = row_with(html, "Customer added")
    for shown in (
        "Name: Acme",
        "Contact name: Ann Acme",
        "Contact email: it@acme.example",
        "Usage space: 50 GB",
        "Auto-authorization: off",
        "Enable Email Reports: on",
        "Trial length (days): 30",
    ):
        assert shown in row
    for raw in ("50000000000", "True", "False", "usage_space_bytes", "customer.created"):
        assert raw not in html


def test_auto_authorization_reads_turned_on_then_off(alice_client, alice, customer_a1):
    services.set_auto_authorization(customer_a1, True, acting_user=alice, origin="test")
    services.set_auto_authorization(customer_a1, False, acting_user=alice, origin="test")

    html = history_html(alice_client, "customers", customer_a1.code)

    assert "Auto-authorization: off → on" in row_with(html, "Auto-authorization turned on")
    assert "Auto-authorization: on → off" in row_with(html, "Auto-authorization turned off")


def test_a_usage_space_made_unlimited_reads_unlimited(alice_client, alice, customer_a1):
    services.update_customer(customer_a1, usage_space_bytes=None, acting_user=alice, origin="test")

    html = history_html(alice_client, "customers", customer_a1.code)

    assert "Usage space: 50 GB → Unlimited" in row_with(html, "Customer settings changed")


def test_the_time_reads_to_the_minute_with_its_zone(alice_client, alice, client_a1, settings):
    client_services.disable_client(client_a1, acting_user=alice, origin="test")
    AuditEvent.objects.filter(action="client.disabled").update(
        at=datetime(2026, 3, 1, 9, 5, 42, 123456, tzinfo=UTC)
    )

    html = history_html(alice_client, "clients", client_a1.code)
    assert '<time datetime="2026-03-01T09:05:42+00:00">2026-03-01 09:05 UTC</time>' in html
    assert "Status: Pending → Disabled" in row_with(html, "Client disabled")

    settings.TIME_ZONE = "Europe/Berlin"
    html = history_html(alice_client, "clients", client_a1.code)
    assert '<time datetime="2026-03-01T10:05:42+01:00">2026-03-01 10:05 CET</time>' in html


def test_a_client_added_by_its_agent_says_so_and_from_where(alice_client, customer_a_east):
    agent = Agent(alice_client, ip="198.51.100.7")
    response = agent.connect(
        "new-laptop@eastwidgets.example", "agent-pass-123", customer_a_east.registration_key
    )
    assert response.status_code == 201

    html = history_html(alice_client, "customers", customer_a_east.code)

    row = row_with(html, "Client added by its agent")
    assert "| Backup agent |" in row
    assert "Backup agent, 198.51.100.7" in row
    assert "SecureCloud ID: new-laptop@eastwidgets.example" in row
    assert "Plan: Trial" in row


def test_a_deleted_client_keeps_its_last_state_in_words(alice_client, alice, client_a1):
    customer = client_a1.customer
    client_services.delete_client(client_a1, acting_user=alice, origin="test")

    html = history_html(alice_client, "customers", customer.code)

    row = row_with(html, "Client deleted")
    assert "SecureCloud ID: a1@acme.example" in row
    assert "Name: Ann's laptop" in row
    assert "Plan: Trial" in row


def test_welcome_emails_read_queued_then_sent(alice_client, alice, customer_a1, mailoutbox):
    queue_welcome_email(customer_a1, acting_user=alice, origin="console 10.0.0.5")

    html = history_html(alice_client, "customers", customer_a1.code)

    assert "Recipient: it@acme.example" in row_with(html, "Welcome email queued")
    sent = row_with(html, "Welcome email sent")
    assert "| System |" in sent and "Background task send_email_delivery" in sent


def test_an_import_run_reads_as_its_counts(alice_client, reseller_a, customer_a1, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text(
        "securecloud_id,customer,password\n"
        "one@acme.example,Acme,password-one\n"
        "two@acme.example,Acme,password-two\n"
    )
    call_command("import_clients", str(path), "--reseller", "Alpha Backup", stdout=StringIO())

    html = history_html(alice_client, "resellers", reseller_a.code)

    row = row_with(html, "Clients imported")
    assert "Import into Alpha Backup" in row
    assert "Created: 2" in row
    assert "| Server command |" in row and "Command import_clients" in row


def test_an_unknown_action_reads_as_words_and_never_breaks_the_page(
    alice_client, customer_a1, reseller_a
):
    AuditEvent.objects.create(
        actor_label="system",
        action="customer.quota_warning_sent",
        object_type="customer",
        object_code=customer_a1.code,
        object_repr="Acme",
        reseller=reseller_a,
        customer_code=customer_a1.code,
        changes={"used_bytes": [1_500_000_000, 2 * 10**9], "note": "not a pair"},
    )

    html = history_html(alice_client, "customers", customer_a1.code)

    row = row_with(html, "Quota warning sent")
    assert "Storage used: 1.5 GB → 2 GB" in row
    assert "Note: not a pair" in row


def recorded_action_codes() -> set[str]:
    """Every action code the services pass to audit.record or audit.record_import."""
    codes = set()
    for path in [
        *ROOT.glob("hierarchy/**/*.py"),
        *ROOT.glob("clients/**/*.py"),
        *ROOT.glob("securecloud/**/*.py"),
    ]:
        source = path.read_text()
        # The first argument: a code, or a choice of codes ("sent" if ... else "failed").
        for first in re.findall(r"audit\.record\(\s*([^,]+),", source):
            codes.update(re.findall(r'"(\w+\.\w+)"', first))
        if "audit.record(" in source:
            # Codes named as constants (SIGNED_IN = "login.signed_in") by a recording module.
            codes.update(re.findall(r'^[A-Z_]+ = "([a-z_]+\.[a-z_]+)"$', source, re.MULTILINE))
        codes.update(f"import.{kind}" for kind in re.findall(r'record_import\(\s*"(\w+)"', source))
    return codes


def test_every_action_the_console_records_has_a_label():
    from securecloud.console import history

    codes = recorded_action_codes()
    assert len(codes) >= 30, sorted(codes)  # the scan finds the calls, not nothing
    unlabelled = sorted(code for code in codes if code not in history.ACTIONS)
    assert not unlabelled
    for code in codes:
        label = history.action_label(code, {})
        assert "." not in label and "_" not in label, label


# --- In the console, with the tree and the whole breadcrumb ----------------------------


def breadcrumb_of(html: str) -> list[str]:
    """The breadcrumb's steps as the admin reads them, and which one is the current page."""
    nav = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', html, re.S).group(0)
    steps = []
    for item in re.findall(r"<li.*?</li>", nav, re.S):
        words = unescape(re.sub(r"<[^>]+>", "", item)).strip()
        steps.append(f"{words} (here)" if 'aria-current="page"' in item else words)
    return steps


def test_a_clients_history_shows_in_the_pane_under_the_tree_with_the_whole_path(
    alice_client, alice, customer_a_east
):
    """From the admin's own reseller down through the sub-reseller, the customer and the
    client to its History; the tree is open down to the client, which is selected."""
    client = client_services.create_client(
        customer_a_east,
        securecloud_id="east-1@eastwidgets.example",
        password="client-pass-1",
        acting_user=None,
        origin="test",
    )
    client_services.disable_client(client, acting_user=alice, origin="test")

    html = history_html(alice_client, "clients", client.code)

    assert breadcrumb_of(html) == [
        "Alpha Backup",
        "Alpha East",
        "East Widgets",
        "east-1@eastwidgets.example",
        "History (here)",
    ]
    assert 'role="tree"' in html
    item = re.search(rf'<a role="treeitem"[^>]*id="ti-{client.code}"[^>]*>', html).group(0)
    assert 'aria-selected="true"' in item
    pane = html.split('id="pane"', 1)[1]
    assert "History of east-1@eastwidgets.example" in pane
    assert "Client disabled" in row_with(pane, "Client disabled")


def test_customer_and_reseller_histories_show_in_the_pane_with_the_whole_path(
    alice_client, customer_a_east, sub_reseller_a
):
    html = history_html(alice_client, "customers", customer_a_east.code)
    assert breadcrumb_of(html) == ["Alpha Backup", "Alpha East", "East Widgets", "History (here)"]
    assert 'role="tree"' in html and "History of East Widgets" in html.split('id="pane"', 1)[1]

    html = history_html(alice_client, "resellers", sub_reseller_a.code)
    assert breadcrumb_of(html) == ["Alpha Backup", "Alpha East", "History (here)"]
    assert 'role="tree"' in html
