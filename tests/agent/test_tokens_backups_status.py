"""Bearer tokens, POST /api/v1/agent/backups and GET /api/v1/agent/status."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from clients import services as client_services
from clients.models import AgentToken, BackupReport, Client
from hierarchy import services as hierarchy_services
from hierarchy.models import GB, Node
from tests.agent.conftest import STATUS

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(agent, client_a1):
    return agent.token("a1@acme.example", "client-pass-1")


# Tokens


def test_missing_token(agent, client_a1):
    assert agent.get(STATUS).json() == {"error": "invalid_token"}
    assert agent.get(STATUS).status_code == 401
    assert agent.report(None).status_code == 401


@pytest.mark.parametrize("header", ["Bearer nope", "Basic abc", "Bearer", "token"])
def test_wrong_token(agent, token, header):
    response = agent.get(STATUS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token"}


def test_token_works_on_both_endpoints(agent, token):
    assert agent.get(STATUS, token).status_code == 200
    assert agent.report(token).status_code == 201


def test_sixth_oldest_token_stops_working(agent, client_a1):
    tokens = [agent.token("a1@acme.example", "client-pass-1") for _ in range(6)]
    assert AgentToken.objects.filter(client=client_a1).count() == 5
    assert agent.get(STATUS, tokens[0]).json() == {"error": "invalid_token"}
    for kept in tokens[1:]:
        assert agent.get(STATUS, kept).status_code == 200


def test_disabling_revokes_tokens(agent, client_a1, token):
    client_services.disable_client(client_a1, acting_user=None, origin="test")
    assert agent.get(STATUS, token).json() == {"error": "invalid_token"}
    assert agent.report(token).status_code == 401


def test_password_reset_revokes_tokens(agent, client_a1, token):
    client_services.set_client_password(
        client_a1, "a-new-password", acting_user=None, origin="test"
    )
    assert agent.get(STATUS, token).status_code == 401
    assert agent.connect("a1@acme.example", "client-pass-1").status_code == 401
    assert agent.connect("a1@acme.example", "a-new-password").status_code == 200


def test_deleting_revokes_tokens(agent, client_a1, token):
    client_services.delete_client(client_a1, acting_user=None, origin="test")
    assert agent.get(STATUS, token).status_code == 401


def test_client_found_disabled_with_a_live_token(agent, client_a1, token):
    # Disabled without the services (e.g. a raw update): the token still names it.
    Client.objects.filter(pk=client_a1.pk).update(status=Client.Status.DISABLED)
    assert agent.get(STATUS, token).json() == {"error": "client_disabled"}
    response = agent.report(token)
    assert response.status_code == 403
    assert response.json() == {"error": "client_disabled"}
    assert not BackupReport.objects.exists()


def test_trial_over_on_bearer_endpoints(agent, client_a1, token):
    Client.objects.filter(pk=client_a1.pk).update(trial_ends_at=timezone.now() - timedelta(1))
    assert agent.get(STATUS, token).json() == {"error": "trial_expired"}
    response = agent.report(token)
    assert response.status_code == 403
    assert response.json() == {"error": "trial_expired"}
    client_services.switch_to_paid(client_a1, acting_user=None, origin="test")
    assert agent.get(STATUS, token).status_code == 200


# Backup reports


def test_report_is_stored_and_moves_storage(agent, client_a1, customer_a1, token):
    finished = timezone.now().replace(microsecond=0) - timedelta(seconds=10)
    plus_one = timezone.get_fixed_timezone(60)
    response = agent.report(
        token,
        started_at=(finished - timedelta(minutes=2)).astimezone(plus_one).isoformat(),
        finished_at=finished.astimezone(plus_one).isoformat(),
        used_bytes=5 * GB,
        files=1234,
        message="All good",
    )
    assert response.status_code == 201
    assert response.json() == {
        "quota_bytes": 50 * GB,
        "used_bytes": 5 * GB,
        "customer_used_bytes": 5 * GB,
        "over_quota": False,
    }
    report = BackupReport.objects.get()
    assert report.client_id == client_a1.pk
    assert report.finished_at == finished
    assert (report.status, report.used_bytes, report.files) == ("success", 5 * GB, 1234)
    assert report.message == "All good"
    assert report.over_quota is False
    client_a1.refresh_from_db()
    assert client_a1.used_bytes == 5 * GB
    assert client_a1.last_backup_at == report.finished_at
    assert client_a1.last_backup_status == "success"
    assert client_a1.last_success_at == report.finished_at
    assert client_a1.last_seen_at is not None
    customer_a1.refresh_from_db()
    assert customer_a1.used_bytes == 5 * GB


def test_failed_report_keeps_last_success(agent, client_a1, token):
    success = timezone.now().replace(microsecond=0) - timedelta(minutes=2)
    failure = success + timedelta(minutes=1)
    agent.report(
        token,
        started_at=(success - timedelta(seconds=30)).isoformat(),
        finished_at=success.isoformat(),
        status="success",
    )
    response = agent.report(
        token,
        started_at=(failure - timedelta(seconds=30)).isoformat().replace("+00:00", "Z"),
        finished_at=failure.isoformat().replace("+00:00", "Z"),
        status="failed",
        used_bytes=1000,
    )
    assert response.status_code == 201
    client_a1.refresh_from_db()
    assert client_a1.last_backup_status == "failed"
    assert client_a1.last_backup_at == failure
    assert client_a1.last_success_at == success


def test_customer_total_moves_by_the_delta_of_each_client(agent, client_a1, customer_a1, token):
    other = client_services.create_client(
        customer_a1,
        securecloud_id="a2@acme.example",
        password="client-pass-3",
        acting_user=None,
        origin="test",
    )
    other_token = agent.token("a2@acme.example", "client-pass-3")
    agent.report(token, used_bytes=3 * GB)
    agent.report(other_token, used_bytes=2 * GB)
    response = agent.report(token, used_bytes=1 * GB)  # shrank
    assert response.json()["customer_used_bytes"] == 3 * GB
    customer_a1.refresh_from_db()
    other.refresh_from_db()
    assert customer_a1.used_bytes == 3 * GB
    assert other.used_bytes == 2 * GB


def test_over_quota_report_is_still_stored_and_flagged(agent, client_a1, customer_a1, token):
    hierarchy_services.update_customer(
        customer_a1, usage_space_bytes=10 * GB, acting_user=None, origin="test"
    )
    assert agent.report(token, used_bytes=10 * GB).json()["over_quota"] is False
    response = agent.report(token, used_bytes=10 * GB + 1)
    assert response.status_code == 201
    assert response.json() == {
        "quota_bytes": 10 * GB,
        "used_bytes": 10 * GB + 1,
        "customer_used_bytes": 10 * GB + 1,
        "over_quota": True,
    }
    assert list(BackupReport.objects.order_by("id").values_list("over_quota", flat=True)) == [
        False,
        True,
    ]
    assert Node.objects.get(pk=customer_a1.pk).over_quota


def test_unlimited_customer_is_never_over_quota(agent, client_a1, customer_a1, token):
    hierarchy_services.update_customer(
        customer_a1, usage_space_bytes=None, acting_user=None, origin="test"
    )
    body = agent.report(token, used_bytes=10**15).json()
    assert body["quota_bytes"] is None
    assert body["over_quota"] is False


def test_report_query_count_is_small(agent, token, django_assert_num_queries):
    # The token with its client, customer and reseller; then the write: one statement on
    # PostgreSQL, a transaction of four on SQLite (plus its savepoint and release here,
    # inside the test's transaction).
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 7):
        assert agent.report(token, used_bytes=77).status_code == 201


# Status


def test_status_is_connect_body_without_token(agent, token):
    response = agent.get(STATUS, token)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"client", "customer", "reseller", "quota_bytes", "used_bytes"}
    assert body["client"]["securecloud_id"] == "a1@acme.example"
    assert body["customer"] == {"name": "Acme"}


def test_status_writes_last_seen_at_most_once_a_minute(
    agent, client_a1, token, django_assert_num_queries
):
    long_ago = timezone.now() - timedelta(minutes=5)
    Client.objects.filter(pk=client_a1.pk).update(last_seen_at=long_ago)
    with django_assert_num_queries(2):  # read + conditional update
        assert agent.get(STATUS, token).status_code == 200
    client_a1.refresh_from_db()
    seen = client_a1.last_seen_at
    assert seen > long_ago
    with django_assert_num_queries(1):  # read only
        assert agent.get(STATUS, token).status_code == 200
    client_a1.refresh_from_db()
    assert client_a1.last_seen_at == seen
