"""A month computed by hand: a client that grows, one that shrinks, one deleted
mid-month, one switched from Trial to Paid mid-month, days without reports, a
sub-reseller's customer without prices; the export matches to the byte."""

from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from clients import services as client_services
from hierarchy.models import GB, AuditEvent
from securecloud.usage import prices
from tests.usage.conftest import at, created, local, report

NOVEMBER = [date(2026, 11, day) for day in range(1, 31)]
EXTRA = 1_234_567  # bytes on top of the shrinking client's sizes, to test the rounding


def _client(customer, name, *, paid=False):
    client = client_services.create_client(
        customer, securecloud_id=name, password="client-pass-1", acting_user=None, origin="test"
    )
    if paid:
        client = client_services.switch_to_paid(client, acting_user=None, origin="test")
    AuditEvent.objects.filter(object_code=client.code).update(at=local(2026, 10, 1))
    return created(client, local(2026, 10, 1))


@pytest.fixture
def november(settings, calendar, reseller_a, customer_a1, customer_a_east, customer_b1, alice):
    """Records every day of November 2026 as cron would, changing things on the way."""
    settings.TIME_ZONE = "UTC"
    prices.set_prices(
        reseller_a,
        per_gb_month="0.05",
        per_paid_client="2.00",
        currency="EUR",
        acting_user=alice,
        origin="test",
    )
    grows = _client(customer_a1, "grows@acme.example", paid=True)
    shrinks = _client(customer_a1, "shrinks@acme.example")
    deleted = _client(customer_a1, "deleted@acme.example", paid=True)
    switched = _client(customer_a1, "switched@acme.example")
    bolt = _client(customer_b1, "bolt@bolt.example", paid=True)
    report(deleted, local(2026, 10, 31), 3 * GB)
    report(bolt, local(2026, 10, 31), 900 * GB)
    for day in NOVEMBER:
        n = day.day
        report(grows, local(2026, 11, n, 12), (10 + n - 1) * GB)
        if n == 1:
            report(shrinks, local(2026, 11, 1, 9), 20 * GB + EXTRA)
            report(switched, local(2026, 11, 1, 13), 2 * GB)
        if n == 10:
            client_services.delete_client(deleted, acting_user=None, origin="test")
            at(local(2026, 11, 10, 15))
        if n == 15:
            client_services.switch_to_paid(switched, acting_user=None, origin="test")
            at(local(2026, 11, 15, 10))
        if n == 16:
            report(shrinks, local(2026, 11, 16, 9), 8 * GB)
            report(shrinks, local(2026, 11, 16, 20), 5 * GB + EXTRA)
        if n == 21:
            east = client_services.create_client(
                customer_a_east, securecloud_id="east@widgets.example", acting_user=None, origin="t"
            )
            east = created(east, local(2026, 11, 21, 8))
            report(east, local(2026, 11, 21, 9), 1_500_000_000)
        calendar.record(day)
    return customer_a1, customer_a_east


# By hand (GB = 10^9 bytes), Acme, 30 days:
#   grows     10, 11, ..., 39 GB                  735 GB-days, Paid all month
#   shrinks   20 GB + EXTRA through the 15th, then 5 GB + EXTRA (its last report on the
#             16th)                               375 GB-days + 30 × EXTRA, Trial
#   deleted   3 GB (reported in October), deleted on the 10th: days 1-10, 30 GB-days, Paid
#   switched  2 GB from the 1st, no more reports: 60 GB-days; Paid from the 15th
#   avg = (1200 GB + 30 × EXTRA) / 30 = 40.001234567 → 40.001; peak: the 15th and the 30th,
#   46 GB + EXTRA → 46.001; paid 3 (grows, deleted, switched), trial 1 (shrinks);
#   client-days 30 + 30 + 10 + 30 = 100; amount 40.001 × 0.05 + 3 × 2.00 = 8.00005 → 8.00 EUR.
# East Widgets (Alpha East, no prices): 1.5 GB from the 21st: 15 GB-days / 30 = 0.500,
# peak 1.500, one trial client for 10 days, no amount.
EXPECTED = (
    "month,reseller,customer,customer_id,paid_clients,trial_clients,client_days,"
    "avg_gb,peak_gb,amount,currency\n"
    "2026-11,Alpha Backup,Acme,{acme},3,1,100,40.001,46.001,8.00,EUR\n"
    "2026-11,Alpha East,East Widgets,{east},0,1,10,0.500,1.500,,\n"
)


def test_the_export_matches_the_month_computed_by_hand(november, tmp_path):
    acme, east = november
    out = tmp_path / "november.csv"
    call_command(
        "export_usage",
        "--reseller",
        "Alpha Backup",
        "--month",
        "2026-11",
        "--out",
        str(out),
        stderr=StringIO(),
    )
    assert out.read_bytes() == EXPECTED.format(acme=acme.code, east=east.code).encode()


def test_the_page_csv_is_the_same_file(november, alice_client):
    acme, east = november
    response = alice_client.get(f"/resellers/{acme.parent.code}/usage.csv", {"month": "2026-11"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content)
    assert body == EXPECTED.format(acme=acme.code, east=east.code).encode()


def test_the_month_in_progress_divides_by_the_days_recorded(november, calendar, tmp_path):
    acme, east = november
    # December 1st and 2nd recorded, on the 3rd: Acme holds 39 + 5 + EXTRA + 2 GB each day
    # (the deleted client is gone, the others carry their last sizes); 2 paid clients:
    # 46.001 × 0.05 + 2 × 2.00 = 6.30005 → 6.30 EUR.
    calendar.record(date(2026, 12, 1))
    calendar.record(date(2026, 12, 2))
    out = StringIO()
    call_command("export_usage", "--reseller", "Alpha Backup", "--month", "2026-12", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1] == f"2026-12,Alpha Backup,Acme,{acme.code},2,1,6,46.001,46.001,6.30,EUR"
    assert lines[2] == f"2026-12,Alpha East,East Widgets,{east.code},0,1,2,1.500,1.500,,"


def test_a_client_deleted_on_the_last_recorded_day_keeps_its_days_when_recorded_again(
    november, calendar
):
    acme, _east = november
    before = StringIO()
    call_command("export_usage", "--reseller", "Alpha Backup", "--month", "2026-11", stdout=before)
    calendar.record(date(2026, 11, 5))  # a backfill after the client was deleted
    after = StringIO()
    call_command("export_usage", "--reseller", "Alpha Backup", "--month", "2026-11", stdout=after)
    assert after.getvalue() == before.getvalue()


def test_the_file_is_not_half_written_when_the_target_is_a_directory(november, tmp_path):
    with pytest.raises(Exception, match="is a directory"):
        call_command(
            "export_usage",
            "--reseller",
            "Alpha Backup",
            "--month",
            "2026-11",
            "--out",
            str(tmp_path),
        )
    assert list(Path(tmp_path).iterdir()) == []


def test_days_are_recorded_once_over_and_within_the_kept_window(calendar, reseller_a):
    from django.core.management.base import CommandError

    calendar.set_today(date(2026, 12, 1))
    with pytest.raises(CommandError, match="has not ended yet"):
        call_command("record_usage", "--date", "2026-12-01")
    with pytest.raises(CommandError, match="older than the 100 days"):
        call_command(
            "record_usage", "--date", (date(2026, 12, 1) - timedelta(days=101)).isoformat()
        )
    with pytest.raises(CommandError, match="is not a date"):
        call_command("record_usage", "--date", "2026-02-30")
