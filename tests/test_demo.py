"""The demo that `make run` loads looks like a console in use: a week of nightly backups
per client, one client whose backups fail, a trial about to end, and storage totals
that add up; loading it again changes nothing, or adds only the nights since."""

import re
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from clients.models import BackupReport, Client
from hierarchy.models import Node
from securecloud.demo.management.commands.setup_demo import DEMO_ADMIN

FAILING = "alice@abc-electric.example"
TRIAL_ENDING = "bob@abc-electric.example"


NOON = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.get_fixed_timezone(0))


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Server time, settable: the demo and the console read timezone.now()."""

    class Clock:
        now = NOON

    monkeypatch.setattr(timezone, "now", lambda: Clock.now)
    return Clock


def setup_demo() -> str:
    out = StringIO()
    call_command("setup_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db):
    setup_demo()


@pytest.fixture
def admin_client(client, demo):
    client.force_login(get_user_model().objects.get(username=DEMO_ADMIN[0]))
    return client


def health_count(page: str, label: str) -> int:
    return int(re.search(re.escape(label) + r": <strong>(\d+)</strong>", page).group(1))


def listed_ids(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/clients/[^"]+/">([^<]+)</a></th>', page)


# Noon, and moments when some clients' backups have just started, are running, or
# have just finished: the warning never depends on when the demo was loaded.
@pytest.mark.parametrize("hour, minute", [(12, 0), (0, 47), (1, 33), (2, 10), (22, 45), (23, 59)])
def test_the_first_screen_warns_only_of_the_deliberately_failing_client(
    clock, client, db, hour, minute
):
    clock.now = NOON.replace(hour=hour, minute=minute)
    setup_demo()
    client.force_login(get_user_model().objects.get(username=DEMO_ADMIN[0]))

    home = client.get(reverse("console-home")).content.decode()
    assert health_count(home, "Last backup failed") == 1
    assert health_count(home, "No successful backup in 24 hours") == 1
    assert health_count(home, "Customers over usage space") == 0

    heroware = Node.objects.get(name="HEROware")
    stale = client.get(reverse("health-list", args=[heroware.code, "stale"]))
    assert listed_ids(stale.content.decode()) == [FAILING]
    failed = client.get(reverse("health-list", args=[heroware.code, "failed"]))
    assert listed_ids(failed.content.decode()) == [FAILING]


def test_the_failing_client_shows_as_failed_with_the_agents_reason(admin_client):
    alice = Client.objects.get(securecloud_id=FAILING)
    page = admin_client.get(reverse("client-pane", args=[alice.code])).content.decode()
    assert "Failed" in page
    latest = alice.backup_reports.latest("started_at")
    assert latest.status == "failed" and "locked by another program" in latest.message
    # It used to work: its last two nights failed, the five before did not.
    assert [
        report.status == "failed" for report in alice.backup_reports.order_by("started_at")
    ] == [False] * 5 + [True] * 2


def test_the_trial_that_ends_soon_shows_its_end_date(admin_client):
    bob = Client.objects.get(securecloud_id=TRIAL_ENDING)
    ends = timezone.localdate() + timedelta(days=3)
    assert timezone.localdate(bob.trial_ends_at) == ends
    page = admin_client.get(reverse("client-pane", args=[bob.code])).content.decode()
    assert f"(ends {ends:%Y-%m-%d})" in page
    customer = admin_client.get(reverse("customer-pane", args=[bob.customer.code]))
    assert "3 days left" in customer.content.decode()


def test_every_client_has_a_week_of_nightly_backups_growing_slowly(demo):
    clients = Client.objects.exclude(status=Client.Status.PENDING)
    assert clients.count() == Client.objects.count() >= 3
    for client in clients:
        reports = list(client.backup_reports.order_by("started_at"))
        assert len(reports) == 7, client
        sizes = [report.used_bytes for report in reports]
        assert sizes == sorted(sizes) and sizes[-1] < sizes[0] * 1.1, client
        for report in reports:
            assert timezone.localtime(report.started_at).hour in {22, 23, 0, 1, 2, 3, 4}
            assert report.finished_at > report.started_at
        assert len({report.finished_at - report.started_at for report in reports}) > 1
        # The client's state is what its last report said.
        assert client.used_bytes == sizes[-1]
        assert client.last_backup_status == reports[-1].status
        assert client.hostname and client.agent_version
    assert len({client.used_bytes for client in clients}) == clients.count()


def test_storage_totals_match_the_clients_last_backups(admin_client):
    for customer in Node.objects.customers():
        last_sizes = sum(
            client.backup_reports.latest("started_at").used_bytes
            for client in customer.clients.all()
        )
        assert customer.used_bytes == last_sizes
        assert customer.client_count == customer.clients.count()
    abc = Node.objects.get(name="ABC Electric")
    assert abc.used_bytes > 0
    page = admin_client.get(reverse("customer-pane", args=[abc.code])).content.decode()
    assert f'value="{abc.used_bytes}"' in page


def test_loading_the_demo_again_changes_nothing(demo):
    def state():
        return (
            BackupReport.objects.count(),
            list(Node.objects.order_by("pk").values_list("used_bytes", "client_count")),
            list(Client.objects.order_by("pk").values_list("used_bytes", "last_backup_at")),
        )

    before = state()
    assert "0 new backup reports" in setup_demo()
    assert state() == before


def test_loading_it_the_next_day_adds_that_night_and_keeps_the_story(demo, clock):
    tomorrow = clock.now = NOON + timedelta(days=1)
    reports = BackupReport.objects.count()

    setup_demo()

    assert BackupReport.objects.count() == reports + Client.objects.count()
    silent = Client.objects.filter(last_success_at__lt=tomorrow - timedelta(hours=24))
    assert list(silent.values_list("securecloud_id", flat=True)) == [FAILING]
    for customer in Node.objects.customers():
        total = customer.clients.aggregate(total=Sum("used_bytes"))["total"] or 0
        assert customer.used_bytes == total


def test_a_client_disabled_in_the_console_is_left_alone_by_the_next_load(demo, clock):
    from clients import services as client_services

    bob = Client.objects.get(securecloud_id=TRIAL_ENDING)
    client_services.disable_client(bob, origin="test", acting_user=None)
    reports = bob.backup_reports.count()
    clock.now = NOON + timedelta(days=1)

    setup_demo()

    bob.refresh_from_db()
    assert bob.status == "disabled" and bob.backup_reports.count() == reports
    assert Client.objects.get(securecloud_id=FAILING).backup_reports.count() == 8
