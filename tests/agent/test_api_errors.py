"""Agents read JSON: unexpected failures under /api/ answer JSON too. A database that
cannot be reached (a restart, a failover) is a 503 with Retry-After; anything else a
JSON 500. The console's pages keep their HTML error pages."""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client as DjangoClient

from tests.agent.conftest import BACKUPS, STATUS, Agent
from tests.test_healthz import database_unreachable

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(client_a1):
    # Exceptions become answers, as in production (the test client re-raises them).
    return Agent(DjangoClient(raise_request_exception=False))


def assert_unavailable(response):
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0


def test_every_endpoint_answers_json_503_while_the_database_is_unreachable(agent):
    token = agent.token("a1@acme.example", "client-pass-1")
    with database_unreachable():
        assert_unavailable(agent.connect("a1@acme.example", "client-pass-1"))
        assert_unavailable(agent.get(STATUS, token))
        assert_unavailable(agent.report(token))
    assert agent.get(STATUS, token).status_code == 200


def test_a_dropped_connection_is_a_503_too(agent):
    token = agent.token("a1@acme.example", "client-pass-1")
    dropped = InterfaceError("connection already closed")
    with mock.patch("clients.agent_store.find_token", side_effect=dropped):
        assert_unavailable(agent.get(STATUS, token))
    with mock.patch("clients.agent_store.find_token", side_effect=OperationalError("restart")):
        assert_unavailable(agent.report(token))


def test_any_other_unexpected_error_is_a_json_500(agent):
    token = agent.token("a1@acme.example", "client-pass-1")
    with mock.patch("clients.agent_services.client_summary", side_effect=RuntimeError("bug")):
        response = agent.get(STATUS, token)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "server_error"
    assert "bug" not in response.content.decode()  # no internals for the caller


def test_an_error_page_from_a_middleware_becomes_json_under_api(agent):
    with mock.patch(
        "django.contrib.messages.middleware.MessageMiddleware.process_request",
        side_effect=RuntimeError,
    ):
        response = agent.post(BACKUPS, {})
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"


def test_console_pages_keep_their_html_error_page(alice):
    browser = DjangoClient(raise_request_exception=False)
    browser.force_login(alice)
    with mock.patch("securecloud.console.views.render_console", side_effect=RuntimeError("bug")):
        response = browser.get("/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/", "/api/v2/agent/status", "/api/agent/connect"])
def test_a_path_under_api_outside_the_version_answers_json_404(path):
    response = DjangoClient(raise_request_exception=False).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"


def test_a_request_for_another_host_answers_json_400_under_api(client_a1):
    response = DjangoClient(raise_request_exception=False).post(STATUS, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_request"


def test_console_pages_keep_their_html_404(alice):
    response = DjangoClient(raise_request_exception=False).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
