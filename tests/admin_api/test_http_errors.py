"""Whatever fails, the admin API answers a problem (RFC 9457): an unknown path, a
method an endpoint does not take, an unexpected error (500) and a database that cannot
be reached (503 with Retry-After), never an HTML page."""

import pytest
from django.db import OperationalError

from hierarchy import services

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def test_an_unknown_path_is_a_problem(api):
    answer = api.get("/nothing-here")
    assert answer.status_code == 404
    assert answer["Content-Type"] == PROBLEM


def test_a_method_an_endpoint_does_not_take_is_a_problem(api, customer_a1):
    answer = api.client.put(
        f"/api/v1/admin/customers/{customer_a1.code}",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.key}",
    )
    assert answer.status_code == 405
    assert answer["Content-Type"] == PROBLEM


def test_an_unexpected_error_is_a_500_problem(api, monkeypatch, client):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "create_customer", broken)
    client.raise_request_exception = False
    answer = api.post("/customers", {"name": "X", "contact_email": "x@x.example"})
    assert answer.status_code == 500
    assert answer["Content-Type"] == PROBLEM
    assert "boom" not in answer.content.decode()


def test_a_database_that_cannot_be_reached_is_a_503_problem(api, monkeypatch, client):
    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "create_customer", unreachable)
    client.raise_request_exception = False
    answer = api.post("/customers", {"name": "X", "contact_email": "x@x.example"})
    assert answer.status_code == 503
    assert answer["Content-Type"] == PROBLEM
    assert int(answer["Retry-After"]) > 0


def test_the_docs_and_the_document_need_no_key(client):
    assert client.get("/api/v1/admin/openapi.json").status_code == 200
    docs = client.get("/api/v1/admin/docs")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
