"""The OpenAPI document states the rules the server keeps: which SecureCloud IDs it
takes (no control characters), and how far a report's times may be off."""

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from clients.agent_requests import AgentError, parse_connect
from clients.openapi import openapi_document

pytestmark = pytest.mark.django_db

SCHEMAS = openapi_document()["components"]["schemas"]


def server_takes_id(value: str) -> bool:
    try:
        parse_connect({"securecloud_id": value, "password": "x"})
    except (AgentError, ValidationError):
        return False
    return True


def ecma_anchors(pattern: str) -> str:
    """The pattern as JSON Schema reads it (ECMA 262), where `$` does not match before a
    final line break as Python's does."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern


def document_takes_id(value: str) -> bool:
    rule = SCHEMAS["ConnectRequest"]["properties"]["securecloud_id"]
    return (
        rule["minLength"] <= len(value) <= rule["maxLength"]
        and re.search(ecma_anchors(rule["pattern"]), value) is not None
    )


@pytest.mark.parametrize(
    "value",
    [
        "a1@acme.example",
        "  A1@Acme.Example ",
        "\ta1@acme.example",
        "a1@acme.example\n",
        "a1@acme.example\r",
        "\x0ba1@acme.example",
        "\u00a0a1@acme.example",
        "a1@acme.example\u3000",
        "\ufeffa1@acme.example",
        "\x00a1@acme.example",
    ],
)
def test_the_documented_id_rule_is_the_servers(value):
    assert document_takes_id(value) == server_takes_id(value), repr(value)


@given(
    st.text(
        alphabet=st.sampled_from("aZ9.@ \t\n\r\x0b\x0c\x00\x1f\x7f\u00a0\u2028\u3000\ufeff"),
        max_size=12,
    )
)
def test_every_id_the_document_allows_the_server_takes_and_no_other(value):
    assert document_takes_id(value) == server_takes_id(value), repr(value)


def test_the_document_states_the_limits_on_report_times():
    report = SCHEMAS["BackupReport"]["properties"]
    assert "before the client was created" in report["started_at"]["description"]
    finished = report["finished_at"]["description"]
    assert "not before the client was" in finished
    assert "5 minutes ahead of the server's clock" in finished
    backups = openapi_document()["paths"]["/agent/backups"]["post"]["description"]
    assert "only move forward" in backups


def test_the_document_describes_every_new_answer():
    paths = openapi_document()["paths"]
    for path in ("/agent/connect", "/agent/backups"):
        responses = paths[path]["post"]["responses"]
        assert {"411", "415", "503"} <= set(responses)
        assert "Retry-After" in responses["503"]["headers"]
    assert "message" in SCHEMAS["Error"]["properties"]


def test_the_document_describes_the_refresh_credential():
    paths = openapi_document()["paths"]
    connected = SCHEMAS["ConnectResponse"]["allOf"][1]
    assert {"token", "refresh_token"} <= set(connected["required"])
    refresh = paths["/agent/refresh"]["post"]
    assert refresh["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RefreshRequest"
    }
    assert SCHEMAS["RefreshRequest"]["required"] == ["refresh_token"]
    assert "works once" in refresh["description"]
    assert "revokes every refresh token" in refresh["description"]
    unauthorised = refresh["responses"]["401"]["content"]["application/json"]["schema"]
    assert unauthorised["allOf"][1]["properties"]["error"]["enum"] == ["invalid_refresh_token"]
    assert "invalid_refresh_token" in SCHEMAS["Error"]["properties"]["error"]["enum"]
    # A full connect queue answers 503, which the connect's description explains.
    busy = paths["/agent/connect"]["post"]["responses"]["503"]
    assert "too many agents are connecting at once" in busy["description"]
