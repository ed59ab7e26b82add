"""/healthz, for load balancers: 200 while the database answers and takes writes, 503
(JSON, with Retry-After) otherwise, whatever cookies the caller brings."""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import OperationalError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client as DjangoClient

from securecloud.healthcheck.models import Heartbeat

pytestmark = pytest.mark.django_db


@contextmanager
def database_unreachable():
    """Every query fails as it does while the database server restarts."""
    error = OperationalError("connection to server failed: Connection refused")
    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", side_effect=error):
        yield


@contextmanager
def database_refuses_writes():
    """Reads work, every write fails: as on a full disk, or a server gone read-only."""
    if connection.vendor == "postgresql":
        # Inside a savepoint: rolling back to it takes the setting back.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET transaction_read_only = on")
            try:
                yield
            finally:
                transaction.set_rollback(True)
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = OFF")


def assert_unavailable(response):
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "database unavailable"}
    assert int(response["Retry-After"]) > 0


def test_healthz_commits_a_write_each_time(client):
    assert client.get("/healthz").status_code == 200
    first = Heartbeat.objects.get().checked_at
    assert client.get("/healthz").status_code == 200
    assert Heartbeat.objects.get().checked_at > first


def test_healthz_is_503_while_the_database_takes_no_writes(client):
    with database_refuses_writes():
        assert_unavailable(client.get("/healthz"))
    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_while_the_database_is_unreachable(client):
    with database_unreachable():
        assert_unavailable(client.get("/healthz"))


def test_healthz_with_a_session_cookie_is_503_not_500_during_an_outage(alice):
    browser = DjangoClient(raise_request_exception=False)
    browser.force_login(alice)  # a signed-in admin's browser, or a probe that kept a cookie
    assert browser.get("/healthz").status_code == 200
    with database_unreachable():
        assert_unavailable(browser.get("/healthz"))
