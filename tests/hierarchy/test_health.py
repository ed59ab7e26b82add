"""The backup-health summary of a reseller's pane. A failed backup, or a customer going
over its usage space, shows as soon as the agent reports it. The count of silent clients
(no successful backup in 24 hours) reads every client of the subtree: it comes from a
snapshot at most a minute old, and the pane says as of when."""

from datetime import timedelta

from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from hierarchy.models import GB
from securecloud.mail.models import HealthSnapshot
from tests.agent.conftest import Agent

FAILED = "Last backup failed: <strong>{}</strong>"
OVER = "Customers over usage space: <strong>{}</strong>"
SILENT = "No successful backup in 24 hours: <strong>{}</strong>"


def summary(http, reseller) -> str:
    html = http.get(reverse("reseller-pane", args=[reseller.code])).content.decode()
    return html[html.index('id="health-heading"') : html.index("</section>")]


def report(agent, token, status="success", used_bytes=1000):
    # A backup of a client added moments ago (reports from before it existed are refused).
    finished = timezone.now()
    response = agent.report(
        token,
        status=status,
        used_bytes=used_bytes,
        started_at=(finished - timedelta(minutes=2)).isoformat(),
        finished_at=finished.isoformat(),
    )
    assert response.status_code == 201, response.content


def test_a_failed_backup_shows_in_the_summary_as_soon_as_it_is_reported(
    alice_client, reseller_a, customer_a_east
):
    agent = Agent(HttpClient())
    token = agent.token("pc@east.example", "agent-password-1", customer_a_east.registration_key)
    report(agent, token, "success")
    assert FAILED.format(0) in summary(alice_client, reseller_a)  # the snapshot is stored
    report(agent, token, "failed")
    assert FAILED.format(1) in summary(alice_client, reseller_a)
    report(agent, token, "success")
    assert FAILED.format(0) in summary(alice_client, reseller_a)


def test_a_customer_over_its_usage_space_shows_as_soon_as_it_is_reported(
    alice_client, reseller_a, customer_a_east
):
    agent = Agent(HttpClient())
    token = agent.token("pc@east.example", "agent-password-1", customer_a_east.registration_key)
    report(agent, token, used_bytes=GB)
    assert OVER.format(0) in summary(alice_client, reseller_a)
    report(agent, token, used_bytes=customer_a_east.usage_space_bytes + GB)
    assert OVER.format(1) in summary(alice_client, reseller_a)


def test_the_silent_count_is_at_most_a_minute_old_and_says_as_of_when(
    alice_client, reseller_a, customer_a_east
):
    agent = Agent(HttpClient())
    token = agent.token("pc@east.example", "agent-password-1", customer_a_east.registration_key)
    html = summary(alice_client, reseller_a)
    assert SILENT.format(1) in html  # connected, never backed up
    computed_at = HealthSnapshot.objects.get(reseller=reseller_a).computed_at
    as_of = timezone.localtime(computed_at).strftime("%H:%M")
    assert "as of <time datetime=" in html and f">{as_of}</time>" in html
    report(agent, token, "success")
    assert SILENT.format(1) in summary(alice_client, reseller_a)  # the snapshot's count
    HealthSnapshot.objects.update(computed_at=timezone.now() - timedelta(minutes=2))
    assert SILENT.format(0) in summary(alice_client, reseller_a)
