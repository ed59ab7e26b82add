"""record_usage: days follow TIME_ZONE, a day recorded twice gives the same rows, plan
and status are those of the day's end, and the kept window is bounded."""

from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from clients import services as client_services
from hierarchy.models import GB, AuditEvent
from securecloud.usage.models import ClientDay, ClientMonth, CustomerDay, CustomerMonth
from tests.usage.conftest import at, created, local, report


def _rows(model, *fields):
    return sorted(model.objects.values_list(*fields))


def _all_rows():
    return (
        _rows(ClientDay, "day", "client_id", "customer_id", "used_bytes", "plan", "status"),
        _rows(ClientMonth, "month", "client_id", "customer_id", "days", "paid_days", "trial_days"),
        _rows(CustomerDay, "day", "customer_id", "used_bytes", "clients", "paid_clients"),
        _rows(
            CustomerMonth,
            "month",
            "customer_id",
            "byte_days",
            "peak_bytes",
            "paid_clients",
            "trial_clients",
            "client_days",
        ),
    )


def _export(month):
    out = StringIO()
    call_command("export_usage", "--reseller", "Alpha Backup", "--month", month, stdout=out)
    return out.getvalue().splitlines()[1:]


def test_recording_a_day_twice_gives_the_same_rows(settings, calendar, customer_a1, client_a1):
    settings.TIME_ZONE = "UTC"
    created(client_a1, local(2026, 11, 1, 8))
    report(client_a1, local(2026, 11, 2, 10), 4 * GB)
    calendar.record(date(2026, 11, 2))
    calendar.record(date(2026, 11, 3))
    first = _all_rows()
    output = calendar.record(date(2026, 11, 3))
    assert _all_rows() == first
    assert "Recorded 2026-11-03: 1 clients of 1 customers." in output
    assert first[2] == [
        (date(2026, 11, 2), customer_a1.pk, 4 * GB, 1, 0),
        (date(2026, 11, 3), customer_a1.pk, 4 * GB, 1, 0),
    ]
    # Each run is in the audit log, as the command.
    runs = AuditEvent.objects.filter(action="usage.recorded")
    assert runs.count() == 3
    assert {event.origin for event in runs} == {"command record_usage"}


def test_months_and_days_follow_a_time_zone_ahead_of_utc(
    settings, calendar, customer_a1, client_a1
):
    """Auckland is UTC+13 in summer: 11:30 UTC on November 30 is already December 1st
    there, so that report counts for December, and November 30 keeps the earlier size."""
    settings.TIME_ZONE = "Pacific/Auckland"
    created(client_a1, local(2026, 11, 29, 0, 30))
    report(client_a1, datetime(2026, 11, 30, 10, 0, tzinfo=UTC), 1 * GB)  # Nov 30, 23:00
    report(client_a1, datetime(2026, 11, 30, 11, 30, tzinfo=UTC), 2 * GB)  # Dec 1, 00:30
    calendar.record(date(2026, 11, 29))
    calendar.record(date(2026, 11, 30))
    calendar.record(date(2026, 12, 1))
    days = dict(CustomerDay.objects.values_list("day", "used_bytes"))
    assert days == {date(2026, 11, 29): 0, date(2026, 11, 30): 1 * GB, date(2026, 12, 1): 2 * GB}
    code = customer_a1.code
    # November: 0 + 1 GB over 30 days; its peak 1 GB. December (in progress, 1 day): 2 GB.
    assert _export("2026-11") == [f"2026-11,Alpha Backup,Acme,{code},0,1,2,0.033,1.000,,"]
    assert _export("2026-12") == [f"2026-12,Alpha Backup,Acme,{code},0,1,1,2.000,2.000,,"]


def test_a_client_created_after_midnight_local_time_is_not_in_the_day_before(
    settings, calendar, customer_a1, client_a1
):
    """New York is UTC-5: 03:00 UTC on December 1st is still November 30 there."""
    settings.TIME_ZONE = "America/New_York"
    created(client_a1, datetime(2026, 12, 1, 3, 0, tzinfo=UTC))  # Nov 30, 22:00 local
    calendar.record(date(2026, 11, 30))
    assert list(ClientDay.objects.values_list("day", flat=True)) == [date(2026, 11, 30)]
    assert _export("2026-11") == [
        f"2026-11,Alpha Backup,Acme,{customer_a1.code},0,1,1,0.000,0.000,,"
    ]


def test_plan_and_status_are_those_at_the_end_of_the_day(settings, calendar, client_a1):
    """Recorded after a switch to Paid and a disable of the next morning, the day keeps
    the Trial and the status it ended with (the audit log says what they were)."""
    settings.TIME_ZONE = "UTC"
    created(client_a1, local(2026, 11, 1, 8))
    calendar.set_today(date(2026, 11, 3))
    client = client_services.switch_to_paid(client_a1, acting_user=None, origin="test")
    at(local(2026, 11, 3, 0, 5))
    client_services.disable_client(client, acting_user=None, origin="test")
    at(local(2026, 11, 3, 0, 6))
    calendar.record(date(2026, 11, 2))
    assert list(ClientDay.objects.values_list("plan", "status")) == [("trial", "pending")]
    calendar.record(date(2026, 11, 3))
    assert list(ClientDay.objects.filter(day=date(2026, 11, 3)).values_list("plan", "status")) == [
        ("paid", "disabled")
    ]


def test_a_backfill_counts_reports_up_to_each_day(settings, calendar, client_a1, customer_a1):
    settings.TIME_ZONE = "UTC"
    created(client_a1, local(2026, 11, 1, 8))
    report(client_a1, local(2026, 11, 1, 20), 1 * GB)
    report(client_a1, local(2026, 11, 3, 20), 3 * GB)
    calendar.set_today(date(2026, 11, 10))
    for day in (1, 2, 3, 4):
        calendar.record(date(2026, 11, day))
    assert list(CustomerDay.objects.order_by("day").values_list("used_bytes", flat=True)) == [
        1 * GB,
        1 * GB,
        3 * GB,
        3 * GB,
    ]


def test_a_client_whose_reports_were_pruned_keeps_the_size_its_last_backup_left(
    settings, calendar, client_a1, customer_a1
):
    settings.TIME_ZONE = "UTC"
    created(client_a1, local(2025, 1, 1, 8))
    report(client_a1, local(2025, 1, 5, 20), 2 * GB)
    calendar.set_today(date(2026, 11, 20))
    call_command("prune_backup_reports", "--older-than-months", "12", stdout=StringIO())
    assert not client_a1.backup_reports.exists()
    calendar.record(date(2026, 11, 20))
    assert CustomerDay.objects.get().used_bytes == 2 * GB


def test_daily_client_rows_past_the_kept_window_are_dropped(settings, calendar, client_a1):
    settings.TIME_ZONE = "UTC"
    settings.USAGE_CLIENT_DAYS_KEPT = 3
    created(client_a1, local(2026, 10, 1))
    calendar.set_today(date(2026, 11, 2))
    calendar.record(date(2026, 11, 1))
    calendar.record(date(2026, 11, 2))
    calendar.record(date(2026, 11, 5))  # on the 6th: the 4th is the oldest kept
    assert list(ClientDay.objects.values_list("day", flat=True)) == [date(2026, 11, 5)]
    # The customer's totals stay, and so do the month's figures.
    assert CustomerDay.objects.count() == 3
    assert CustomerMonth.objects.get().client_days == 3


@pytest.mark.parametrize("value", ["2026-13", "November", "2026-1", ""])
def test_export_refuses_a_bad_month(reseller_a, value):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="is not a month"):
        call_command("export_usage", "--reseller", "Alpha Backup", "--month", value)


def test_export_refuses_an_unknown_reseller(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No reseller named 'Nobody'"):
        call_command("export_usage", "--reseller", "Nobody", "--month", "2026-11")


def test_deleting_a_customer_deletes_its_usage(settings, calendar, customer_a1, client_a1):
    """A customer can be deleted once it has no clients; its usage goes with it."""
    from hierarchy import services

    settings.TIME_ZONE = "UTC"
    created(client_a1, local(2026, 11, 1, 8))
    calendar.record(date(2026, 11, 2))
    client_services.delete_client(client_a1, acting_user=None, origin="test")
    services.delete_customer(customer_a1, acting_user=None, origin="test")
    for model in (ClientDay, ClientMonth, CustomerDay, CustomerMonth):
        assert not model.objects.exists(), model
