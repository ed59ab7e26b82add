"""Property-based fuzzing of the admin API from its own OpenAPI document (schemathesis),
as tests/agent/test_fuzz_openapi.py does for the agent API: valid and invalid requests
for every operation, sent with an Administrator key of a tenant that has objects to
find; every answer must be no 5xx and conform to the document (status codes, content
types, headers, bodies)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from securecloud.api.api import openapi_document
from tests.admin_api.conftest import make_key

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = get_wsgi_application()

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def admin_key(reseller_a, customer_a1, client_a1, sub_reseller_a, customer_a_east, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # schemathesis' WSGI host
    settings.ADMIN_API_RATE_LIMIT = "100000/min"
    key = make_key(reseller_a)
    # The WSGI handler closes the connection around each request; the test transaction
    # must survive it.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield key
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_admin_api_answers_conform_to_the_document(case, admin_key):
    response = case.call(headers={"Authorization": f"Bearer {admin_key}"})
    case.validate_response(response, checks=CHECKS)


def test_the_served_document_is_the_generated_one(client):
    response = client.get("/api/v1/admin/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document()
    assert response.json()["openapi"].startswith("3.")


def test_every_error_answer_is_documented_as_a_problem():
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "404", "422", "429"} <= codes, (method, path)
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    assert set(response["content"]) == {"application/problem+json"}
            assert "Retry-After" in operation["responses"]["429"]["headers"]
