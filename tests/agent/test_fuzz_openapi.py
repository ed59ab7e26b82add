"""Property-based fuzzing of the agent API from its own OpenAPI document (schemathesis).

Schemathesis reads /api/v1/openapi.json through the WSGI application, generates valid
and invalid requests for every operation, and checks each answer: never a 500, only
documented status codes, content types and headers, and bodies that match the
documented schemas.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from clients.openapi import openapi_document

pytestmark = pytest.mark.django_db

# Loaded from the same dict the view serves (test_served_document_is_the_source checks
# that), because collection runs before the test settings exist.
schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = get_wsgi_application()

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture
def agent_token(agent, client_a1, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # schemathesis' WSGI host
    token = agent.token("a1@acme.example", "client-pass-1")
    # The WSGI handler closes the connection around each request; the test transaction
    # must survive it (Django's test client does the same, and reconnects the receiver
    # after each of its requests, so this comes after the token).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield token
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_conform_to_the_document(case, agent_token, customer_a_east):
    # Bearer endpoints get a valid token (else every case would stop at 401); connect
    # cases run against the cast, so some hit real clients and the rate limit.
    headers = {"Authorization": f"Bearer {agent_token}"} if case.path != "/agent/connect" else {}
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS)


def test_every_endpoint_is_described():
    paths = openapi_document()["paths"]
    assert set(paths) == {
        "/agent/connect",
        "/agent/refresh",
        "/agent/backups",
        "/agent/status",
        "/openapi.json",
    }
    for path in ("/agent/connect", "/agent/refresh", "/agent/backups"):
        responses = paths[path]["post"]["responses"]
        assert {"400", "401", "403", "405", "413"} <= set(responses)
    for path in ("/agent/connect", "/agent/refresh"):
        responses = paths[path]["post"]["responses"]
        assert "Retry-After" in responses["429"]["headers"]
        assert "Retry-After" in responses["503"]["headers"]


def test_served_document_is_the_source(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == openapi_document()


def test_document_is_valid_openapi(tmp_path):
    """Checked with openapi-spec-validator where one is installed (it is no dependency)."""
    import json
    import shutil
    import subprocess

    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(openapi_document()))
    check = (
        "import json, sys\n"
        "from openapi_spec_validator import validate\n"
        "validate(json.load(open(sys.argv[1])))\n"
    )
    for python in ("python3", "/usr/bin/python3"):
        executable = shutil.which(python)
        if not executable:
            continue
        probe = subprocess.run(
            [executable, "-c", "import openapi_spec_validator"], capture_output=True
        )
        if probe.returncode != 0:
            continue
        result = subprocess.run(
            [executable, "-c", check, str(document)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return
    pytest.skip("openapi-spec-validator is not installed in any python3 on PATH")
