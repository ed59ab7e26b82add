"""manage.py send_backup_reports: content, recipients, periods, failures, dry run, scope."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients import services as client_services
from clients.models import BackupReport, Client
from hierarchy import services
from hierarchy.models import GB
from securecloud.mail.models import EmailDelivery


@pytest.fixture
def clock(monkeypatch):
    """Server time, settable: clock.now = ...; reports read timezone.now()."""

    class Clock:
        now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.get_fixed_timezone(0))

    monkeypatch.setattr(timezone, "now", lambda: Clock.now)
    return Clock


def run(*args) -> str:
    out = StringIO()
    call_command("send_backup_reports", *args, stdout=out)
    return out.getvalue()


def backed_up(client, at, status="success", used=GB):
    """Arrange a client's state as the agent API leaves it after a backup at `at`."""
    fields = {
        "last_backup_at": at,
        "last_backup_status": status,
        "used_bytes": used,
        "status": Client.Status.ACTIVE,
    }
    if status == "success":
        fields["last_success_at"] = at
    Client.objects.filter(pk=client.pk).update(**fields)
    BackupReport.objects.create(
        client=client,
        started_at=at - timedelta(minutes=5),
        finished_at=at,
        status=status,
        used_bytes=used,
    )


def to(mailoutbox, address):
    return [m for m in mailoutbox if m.to == [address]]


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


@pytest.fixture
def silent_a2(customer_a1):
    return client_services.create_client(
        customer_a1,
        securecloud_id="a2@acme.example",
        name="Reception",
        password="client-pass-3",
        acting_user=None,
        origin="test",
    )


def test_daily_report_lists_clients_and_flags_the_silent_one(
    clock, customer_a1, client_a1, silent_a2, alice, mailoutbox
):
    backed_up(client_a1, clock.now - timedelta(hours=3), used=2 * GB)
    backed_up(silent_a2, clock.now - timedelta(days=3), used=GB)

    output = run()

    [report] = to(mailoutbox, "it@acme.example")
    assert report.from_email == "Alpha Backup <no-reply@localhost>"
    assert report.subject == "Daily backup report for Acme: 1 of 2 clients needs attention"
    html = html_of(report)
    for part in (report.body, html):
        assert "a1@acme.example" in part and "a2@acme.example" in part
        assert "No successful backup in the period" in part
        assert "2026-11-25 09:00" in part  # last backup time of a1
        assert "2 GB" in part  # a1's storage
        assert "All backups verified" not in part
    assert "[ATTENTION] a2@acme.example" in report.body
    assert "[OK] a1@acme.example" in report.body
    assert "Backups in the period: 1 (1 successful)" in report.body
    assert "Sent daily report to it@acme.example (Acme)" in output
    delivery = EmailDelivery.objects.get(customer=customer_a1)
    assert (delivery.kind, delivery.period_key, delivery.status) == (
        "report_daily",
        "2026-11-25",
        "sent",
    )


def test_client_that_never_reported_is_flagged(clock, customer_a1, client_a1, alice, mailoutbox):
    run()

    [report] = to(mailoutbox, "it@acme.example")
    assert "1 of 1 client needs attention" in report.subject
    assert "[ATTENTION] a1@acme.example" in report.body
    assert "Never backed up" in report.body


def test_failed_last_backup_is_flagged_even_after_a_success(
    clock, customer_a1, client_a1, mailoutbox
):
    backed_up(client_a1, clock.now - timedelta(hours=5))
    backed_up(client_a1, clock.now - timedelta(hours=1), status="failed")

    run()

    [report] = to(mailoutbox, "it@acme.example")
    assert "Last backup failed" in report.body
    assert "Backups in the period: 2 (1 successful)" in report.body


def test_all_backups_verified_headline_and_usage(clock, customer_a1, client_a1, mailoutbox):
    backed_up(client_a1, clock.now - timedelta(hours=2), used=5 * GB)
    services.update_customer(
        customer_a1, usage_space_bytes=100 * GB, acting_user=None, origin="test"
    )
    from hierarchy.models import Node

    Node.objects.filter(pk=customer_a1.pk).update(used_bytes=5 * GB)

    run()

    [report] = to(mailoutbox, "it@acme.example")
    assert report.subject == "Daily backup report for Acme: All backups verified"
    assert "ALL BACKUPS VERIFIED" in report.body
    assert "All backups verified" in html_of(report)
    assert "Storage used: 5 GB of 100 GB (5%)" in report.body


def test_over_usage_space_is_said(clock, customer_a1, client_a1, mailoutbox):
    backed_up(client_a1, clock.now - timedelta(hours=2))
    from hierarchy.models import Node

    Node.objects.filter(pk=customer_a1.pk).update(used_bytes=60 * GB)

    run()

    assert "OVER USAGE SPACE" in to(mailoutbox, "it@acme.example")[0].body


def test_customers_without_email_reports_get_none(clock, reseller_a, customer_a1, mailoutbox):
    services.update_customer(customer_a1, email_reports=False, acting_user=None, origin="test")

    run()

    assert to(mailoutbox, "it@acme.example") == []


def test_daily_is_sent_once_per_day_and_weekly_once_per_week(
    clock, customer_a1, client_a1, mailoutbox
):
    run()
    output = run()

    assert len(to(mailoutbox, "it@acme.example")) == 1
    assert "0 sent, 0 failed" in output

    clock.now += timedelta(days=1)  # Thursday 26th: a new day, the same ISO week
    run()
    assert len(to(mailoutbox, "it@acme.example")) == 2

    run("--period", "weekly")
    run("--period", "weekly")
    clock.now += timedelta(days=1)
    run("--period", "weekly")
    weekly = [m for m in to(mailoutbox, "it@acme.example") if m.subject.startswith("Weekly")]
    assert len(weekly) == 1
    keys = set(EmailDelivery.objects.filter(customer=customer_a1).values_list("kind", "period_key"))
    assert keys == {
        ("report_daily", "2026-11-25"),
        ("report_daily", "2026-11-26"),
        ("report_weekly", "2026-W48"),
    }

    clock.now += timedelta(days=4)  # Monday 30th: ISO week 49
    run("--period", "weekly")
    assert (
        len([m for m in to(mailoutbox, "it@acme.example") if m.subject.startswith("Weekly")]) == 2
    )


def test_calendar_day_follows_the_server_time_zone(clock, settings, customer_a1, mailoutbox):
    settings.TIME_ZONE = "America/New_York"
    clock.now = datetime(
        2026, 11, 26, 2, 0, tzinfo=timezone.get_fixed_timezone(0)
    )  # 25th in New York

    run()

    assert EmailDelivery.objects.get(customer=customer_a1).period_key == "2026-11-25"


def test_weekly_covers_the_seven_days_before_the_run(clock, customer_a1, client_a1, mailoutbox):
    backed_up(client_a1, clock.now - timedelta(days=3))

    run("--period", "weekly")
    run()  # daily: three days ago is outside the 24 hours

    weekly, daily = to(mailoutbox, "it@acme.example")
    assert "All backups verified" in weekly.subject
    assert "need" in daily.subject and "No successful backup in the period" in daily.body


def test_failing_recipient_does_not_stop_others_and_is_retried(
    clock, reseller_a, customer_a1, client_a1, alice, refuse, mailoutbox
):
    services.create_customer(
        reseller_a,
        name="Beta",
        contact_email="it@beta.example",
        email_reports=True,
        acting_user=None,
        origin="test",
    )
    services.create_customer(
        reseller_a,
        name="Zeta",
        contact_email="it@zeta.example",
        email_reports=True,
        acting_user=None,
        origin="test",
    )
    refuse("it@acme.example")

    out = StringIO()
    with pytest.raises(CommandError, match="1 message"):
        call_command("send_backup_reports", stdout=out)

    assert to(mailoutbox, "it@acme.example") == []
    assert len(to(mailoutbox, "it@beta.example")) == 1
    assert len(to(mailoutbox, "it@zeta.example")) == 1
    assert len(to(mailoutbox, "alice@alpha.example")) == 1
    failed = EmailDelivery.objects.get(customer=customer_a1)
    assert failed.status == "failed" and "Mailbox unavailable" in failed.error
    assert "FAILED daily report to it@acme.example" in out.getvalue()

    refuse()  # the next run of the day
    output = run()

    assert len(to(mailoutbox, "it@acme.example")) == 1
    assert len(to(mailoutbox, "it@beta.example")) == 1  # not sent twice
    assert len(to(mailoutbox, "alice@alpha.example")) == 1
    assert "(retry of a failed send)" in output
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error) == ("sent", 2, "")


def test_failing_admin_does_not_stop_the_customer_reports(
    clock, customer_a1, alice, refuse, mailoutbox
):
    refuse("alice@alpha.example")

    with pytest.raises(CommandError):
        run()

    assert len(to(mailoutbox, "it@acme.example")) == 1
    summary = EmailDelivery.objects.get(kind="summary_daily")
    assert (summary.reseller.name, summary.status) == ("Alpha Backup", "failed")


def test_summaries_go_to_each_reseller_nodes_admins_over_its_subtree(
    clock,
    customer_a1,
    client_a1,
    customer_a_east,
    sam,
    alice,
    bob,
    customer_b1,
    client_b1,
    mailoutbox,
):
    backed_up(client_a1, clock.now - timedelta(hours=1))
    east_client = client_services.create_client(
        customer_a_east,
        securecloud_id="e1@east.example",
        password="client-pass-4",
        acting_user=None,
        origin="test",
    )
    backed_up(east_client, clock.now - timedelta(days=2))  # silent for a day
    from hierarchy.models import Node

    Node.objects.filter(pk=customer_a1.pk).update(used_bytes=46 * GB)  # 92% of 50 GB
    Client.objects.filter(pk=client_a1.pk).update(trial_ends_at=clock.now + timedelta(days=3))

    run()

    [alice_summary] = to(mailoutbox, "alice@alpha.example")
    [sam_summary] = to(mailoutbox, "sam@alpha-east.example")
    [bob_summary] = to(mailoutbox, "bob@bravo.example")
    assert alice_summary.from_email == "SecureCloud <no-reply@localhost>"
    assert alice_summary.subject.startswith("Daily backup summary for Alpha Backup")
    # The parent reseller's admin sees the sub-reseller's customers.
    body = alice_summary.body
    assert "East Widgets (Alpha East): 1 of 1 client without a verified backup" in body
    assert "Acme (Alpha Backup): 46 GB of 50 GB (92%)" in body
    assert "a1@acme.example at Acme: ends 2026-11-28" in body
    assert "East Widgets" in html_of(alice_summary)
    # The sub-reseller's admin sees only their subtree; Bravo sees nothing of Alpha.
    assert "East Widgets" in sam_summary.body and "Acme" not in sam_summary.body
    assert "Acme" not in bob_summary.body and "East Widgets" not in bob_summary.body
    assert "Bolt" in bob_summary.body
    assert EmailDelivery.objects.filter(kind="summary_daily").count() == 3
    assert "0 sent, 0 failed, 4 already sent." in run()  # 1 report, 3 summaries


def test_dry_run_sends_nothing_and_records_nothing(
    clock, customer_a1, client_a1, alice, mailoutbox
):
    output = run("--dry-run")

    assert mailoutbox == []
    assert not EmailDelivery.objects.exists()
    assert (
        "Would send daily report to it@acme.example (Acme): 1 of 1 client needs attention" in output
    )
    assert "Would send daily summary to alice@alpha.example (Alpha Backup)" in output
    assert "nothing sent" in output


def test_customer_option_sends_only_that_report(
    clock, reseller_a, customer_a1, client_a1, alice, mailoutbox
):
    services.create_customer(
        reseller_a,
        name="Beta",
        contact_email="it@beta.example",
        email_reports=True,
        acting_user=None,
        origin="test",
    )

    output = run("--reseller", "alpha backup", "--customer", "ACME")

    assert [m.to for m in mailoutbox] == [["it@acme.example"]]
    assert "1 sent" in output


def test_reseller_option_limits_the_run_to_its_subtree(
    clock, customer_a1, customer_a_east, sam, alice, customer_b1, bob, mailoutbox
):
    services.update_customer(customer_a_east, email_reports=True, acting_user=None, origin="test")

    run("--reseller", "Alpha East")

    assert sorted(m.to[0] for m in mailoutbox) == [
        "it@eastwidgets.example",
        "sam@alpha-east.example",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reseller", "Nobody"], "No reseller named 'Nobody'."),
        (
            ["--reseller", "Alpha Backup", "--customer", "Bolt"],
            "No customer named 'Bolt' under Alpha Backup.",
        ),
        (["--customer", "Acme"], "--customer needs --reseller"),
    ],
)
def test_unknown_names_are_a_one_line_error(customer_a1, customer_b1, args, message, mailoutbox):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert mailoutbox == []


def test_queries_do_not_grow_with_the_number_of_customers(clock, reseller_a, alice):
    def add_customers(start, count):
        for n in range(start, start + count):
            customer = services.create_customer(
                reseller_a,
                name=f"Customer {n}",
                contact_email=f"it@c{n}.example",
                email_reports=True,
                acting_user=None,
                origin="test",
            )
            client_services.create_client(
                customer,
                securecloud_id=f"c{n}@example.com",
                password="client-pass-9",
                acting_user=None,
                origin="test",
            )

    def queries_of_a_dry_run():
        with CaptureQueriesContext(connection) as queries:
            run("--dry-run")
        return len(queries)

    add_customers(0, 3)
    few = queries_of_a_dry_run()
    add_customers(3, 30)

    assert queries_of_a_dry_run() == few


def test_unreachable_mail_server_stops_the_run_and_the_next_run_sends_all(
    clock, reseller_a, settings, mailoutbox
):
    for n in range(5):
        services.create_customer(
            reseller_a,
            name=f"C{n}",
            contact_email=f"it@c{n}.example",
            email_reports=True,
            acting_user=None,
            origin="test",
        )
    settings.EMAIL_BACKEND = "tests.email.backends.UnreachableBackend"

    out = StringIO()
    with pytest.raises(CommandError, match="refused 3 connections in a row"):
        call_command("send_backup_reports", stdout=out)

    assert mailoutbox == []
    failed = EmailDelivery.objects.filter(status="failed")
    assert failed.count() == 3
    assert "Connection refused" in failed.first().error
    assert EmailDelivery.objects.count() == 3  # the others were not touched

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    output = run()

    assert sorted(m.to[0] for m in mailoutbox) == [f"it@c{n}.example" for n in range(5)]
    assert "5 sent, 0 failed" in output
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_a_report_lists_at_most_two_hundred_clients_flagged_first(customer_b1, settings):
    from django.utils import timezone

    from clients.models import Client
    from securecloud.mail import reports

    now = timezone.now()
    Client.objects.bulk_create(
        Client(
            customer=customer_b1,
            securecloud_id=f"c{i:04}@bolt.example",
            trial_ends_at=now,
            last_success_at=None if i % 100 == 0 else now,
        )
        for i in range(450)
    )
    report = reports.customer_report(customer_b1, reports.DAILY, now)
    assert len(report.shown_lines) == 200 and report.hidden_count == 250
    assert all(line.flagged for line in report.shown_lines[:5])  # the 5 silent ones first
    assert report.hidden_flagged_count == 0
    text = reports.report_message(report, "it@bolt.example").body
    assert "... and 250 more clients, all verified" in text
    assert text.count("[OK]") + text.count("[ATTENTION]") == 200
