"""Bad input is a JSON 4xx, never a 500: validation, methods, sizes."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from clients.models import BackupReport
from tests.agent.conftest import BACKUPS, CONNECT, STATUS

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(agent, client_a1):
    return agent.token("a1@acme.example", "client-pass-1")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'"a string"',
        b"null",
        b"\xff\xfe\x00",
        b"[" * 50000,
        b'{"securecloud_id": NaN}',
    ],
)
def test_connect_body_that_is_not_a_json_object(agent, body):
    response = agent.post(CONNECT, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "body" in response.json()["fields"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "securecloud_id"),
        ({"securecloud_id": "a1@acme.example"}, "password"),
        ({"securecloud_id": 12345, "password": "long-enough"}, "securecloud_id"),
        ({"securecloud_id": "a b c", "password": "long-enough"}, "securecloud_id"),
        ({"securecloud_id": "x" * 300, "password": "long-enough"}, "securecloud_id"),
        ({"securecloud_id": "\u212aelvin", "password": "long-enough"}, "securecloud_id"),
        ({"securecloud_id": "a1@acme.example", "password": ["x"]}, "password"),
        ({"securecloud_id": "a1@acme.example", "password": "p" * 129}, "password"),
        ({"securecloud_id": "a1@acme.example", "password": "bad\ud800surrogate"}, "password"),
        (
            {"securecloud_id": "a1@acme.example", "password": "long-enough", "hostname": "a\x00b"},
            "hostname",
        ),
        (
            {"securecloud_id": "a1@acme.example", "password": "long-enough", "hostname": 7},
            "hostname",
        ),
        (
            {
                "securecloud_id": "a1@acme.example",
                "password": "long-enough",
                "hostname": "pc-\u202eexe.txt",  # shows as "pc-txt.exe"
            },
            "hostname",
        ),
        (
            {
                "securecloud_id": "a1@acme.example",
                "password": "long-enough",
                "agent_version": "2.\u200b1",
            },
            "agent_version",
        ),
        (
            {
                "securecloud_id": "a1@acme.example",
                "password": "long-enough",
                "registration_key": "k" * 500,
            },
            "registration_key",
        ),
        (
            {
                "securecloud_id": "a1@acme.example",
                "password": "long-enough",
                "agent_version": "v" * 101,
            },
            "agent_version",
        ),
    ],
)
def test_connect_invalid_fields(agent, client_a1, body, field):
    response = agent.post(CONNECT, json.dumps(body))
    assert response.status_code == 400
    payload = response.json()
    assert payload["error"] == "invalid_request"
    assert field in payload["fields"]
    assert isinstance(payload["fields"][field], str)


# A backup that finished a minute ago (reports may not end before their client existed).
FINISHED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
STARTED = FINISHED - timedelta(minutes=1)
GOOD = {
    "started_at": STARTED.isoformat(),
    "finished_at": FINISHED.isoformat(),
    "status": "success",
    "used_bytes": 1000,
}


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"started_at": None}, "started_at"),
        ({"started_at": "2025-01-01T01:00:00"}, "started_at"),  # no offset
        ({"started_at": "2025-01-01"}, "started_at"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"started_at": 1735693200}, "started_at"),
        ({"started_at": "0001-01-01T00:00:00+14:00"}, "started_at"),  # out of range in UTC
        ({"finished_at": (STARTED - timedelta(seconds=1)).isoformat()}, "finished_at"),
        ({"finished_at": "2999-01-01T00:00:00+00:00"}, "finished_at"),  # the future
        ({"status": "ok"}, "status"),
        ({"status": ["success"]}, "status"),
        ({"status": None}, "status"),
        ({"used_bytes": -1}, "used_bytes"),
        ({"used_bytes": 1.5}, "used_bytes"),
        ({"used_bytes": "1000"}, "used_bytes"),
        ({"used_bytes": True}, "used_bytes"),
        ({"used_bytes": 2**63}, "used_bytes"),
        ({"used_bytes": None}, "used_bytes"),
        ({"files": -5}, "files"),
        ({"message": "x" * 4001}, "message"),
        ({"message": "nul\x00byte"}, "message"),
        ({"message": {"text": "hi"}}, "message"),
    ],
)
def test_backup_invalid_fields(agent, token, changes, field):
    body = {**GOOD, **changes}
    body = {k: v for k, v in body.items() if v is not None or k == field}
    response = agent.post(BACKUPS, json.dumps(body), token=token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["fields"]
    assert not BackupReport.objects.exists()


_STAMP = STARTED.isoformat()  # e.g. 2026-12-01T10:00:00+00:00


@pytest.mark.parametrize(
    "started_at",
    [
        _STAMP + "\x00",  # a NUL (or any other character) after the offset
        _STAMP.replace("+00:00", "\x00+00:00"),
        _STAMP.replace("T", "\x00"),
        _STAMP.replace("+00:00", " Z"),
        _STAMP.replace("-", "").replace(":", ""),  # ISO 8601's basic format
        f"{STARTED:%G-W%V-%u}T{STARTED:%H:%M:%S}+00:00",  # a week date
        _STAMP.replace("+00:00", ",5+00:00"),  # a decimal comma
        _STAMP[:16] + "+00:00",  # no seconds
    ],
)
def test_backup_times_are_rfc_3339_and_nothing_else(agent, token, started_at):
    """The API document says date-time (RFC 3339); Python reads much more than that,
    control characters included."""
    response = agent.post(BACKUPS, json.dumps({**GOOD, "started_at": started_at}), token=token)
    assert response.status_code == 400
    assert "started_at" in response.json()["fields"]
    assert not BackupReport.objects.exists()


@pytest.mark.parametrize(
    "started_at",
    [
        _STAMP,
        _STAMP.replace("+00:00", "Z"),
        _STAMP.replace("+00:00", "z"),
        _STAMP.replace("T", " "),
        _STAMP.replace("+00:00", ".123456+00:00"),
        _STAMP.replace("+00:00", ".123456789Z"),
        (STARTED + timedelta(hours=2)).isoformat().replace("+00:00", "+02:00"),
    ],
    # Names that do not hold the time: parallel workers collect at different seconds and
    # must collect the same tests.
    ids=["utc-offset", "Z", "lower-z", "space", "microseconds", "nanoseconds", "plus-two"],
)
def test_backup_times_in_rfc_3339_are_read(agent, token, started_at):
    response = agent.post(BACKUPS, json.dumps({**GOOD, "started_at": started_at}), token=token)
    assert response.status_code == 201, response.json()


def test_backup_accepts_z_offsets_multiline_messages_and_nulls(agent, token):
    body = {
        **GOOD,
        "started_at": STARTED.isoformat().replace("+00:00", "Z"),
        "files": None,
        "message": "line 1\nline 2\ttab",
    }
    assert agent.post(BACKUPS, body, token=token).status_code == 201


def test_backup_bad_json_with_valid_token_is_400(agent, token):
    response = agent.post(BACKUPS, b"{oops", token=token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_backup_bad_json_without_token_is_401(agent, client_a1):
    assert agent.post(BACKUPS, b"{oops").status_code == 401


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("get", CONNECT, "POST"),
        ("put", CONNECT, "POST"),
        ("delete", BACKUPS, "POST"),
        ("get", BACKUPS, "POST"),
        ("post", STATUS, "GET"),
        ("patch", STATUS, "GET"),
        ("post", "/api/v1/openapi.json", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(client, db, method, path, allow):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Allow"] == allow
    assert response.json() == {"error": "method_not_allowed"}


def test_trailing_slash_is_not_an_endpoint(client, db):
    assert client.post(CONNECT + "/", content_type="application/json").status_code == 404


def test_body_over_64_kib_is_413(agent, client_a1, token):
    big = json.dumps({"securecloud_id": "a1@acme.example", "password": "x" * (64 * 1024)})
    response = agent.post(CONNECT, big)
    assert response.status_code == 413
    assert response.json() == {"error": "payload_too_large"}
    assert agent.post(BACKUPS, big, token=token).status_code == 413


def test_declared_length_over_64_kib_is_413_without_reading(agent, client_a1):
    response = agent.post(CONNECT, b"{}", CONTENT_LENGTH=str(10**9))
    assert response.status_code == 413
    assert response.json() == {"error": "payload_too_large"}


def test_exactly_64_kib_is_read(agent, client_a1):
    base = json.dumps({"securecloud_id": "a1@acme.example", "password": "client-pass-1"})
    padded = base[:-1] + " " * (64 * 1024 - len(base)) + "}"
    assert len(padded) == 64 * 1024
    assert agent.post(CONNECT, padded).status_code == 200


def test_unknown_fields_are_ignored(agent, client_a1):
    body = {"securecloud_id": "a1@acme.example", "password": "client-pass-1", "extra": [1]}
    assert agent.post(CONNECT, body).status_code == 200


def test_an_unknown_api_path_answers_json_404(client, db):
    response = client.get("/api/v1/agent/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found"}


def test_the_api_never_reads_the_session(client, db):
    client.cookies["sessionid"] = "some-session-cookie"
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "Cookie" not in response.get("Vary", "")
    assert "sessionid" not in response.cookies


def test_two_huge_reports_cannot_overflow_the_customers_total(client, customer_b1):
    from tests.agent.conftest import Agent

    totals = []
    for n in (1, 2):
        agent = Agent(client, ip=f"192.0.2.{n}")
        token = agent.token(f"huge{n}@bolt.example", "password-123", customer_b1.registration_key)
        response = agent.report(token, used_bytes=2**62)
        assert response.status_code == 400
        assert "used_bytes" in response.json()["fields"]
        response = agent.report(token, used_bytes=10**15)
        assert response.status_code == 201
        totals.append(response.json()["customer_used_bytes"])
    assert totals == [10**15, 2 * 10**15]


# The body's envelope: declared as JSON, sent with a Content-Length.

CONNECT_BODY = json.dumps({"securecloud_id": "a1@acme.example", "password": "client-pass-1"})


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_a_body_not_declared_as_json_is_415(client, client_a1, content_type):
    response = client.generic("POST", CONNECT, CONNECT_BODY, content_type=content_type)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert "application/json" in response.json()["message"]


def test_json_with_a_utf8_charset_is_fine(client, client_a1):
    for content_type in ("application/json; charset=utf-8", "Application/JSON"):
        response = client.generic("POST", CONNECT, CONNECT_BODY, content_type=content_type)
        assert response.status_code == 200, content_type


def test_a_report_not_declared_as_json_is_415(client, token):
    response = client.generic(
        "POST",
        BACKUPS,
        json.dumps(GOOD),
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 415
    assert not BackupReport.objects.exists()


def chunked(path: str, body: bytes) -> dict:
    """A request as a WSGI server hands over a chunked body: no CONTENT_LENGTH, the
    Transfer-Encoding header, the body already de-chunked in wsgi.input."""
    from io import BytesIO

    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "198.51.100.7",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.url_scheme": "http",
        "wsgi.errors": BytesIO(),
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])

    # The handler closes the connection around each request; the test transaction must
    # survive it (as in the fuzzing test).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        answer["body"] = json.loads(b"".join(WSGIHandler()(environ, start_response)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer


def test_a_chunked_body_is_411_not_read_as_empty(client_a1):
    answer = chunked(CONNECT, CONNECT_BODY.encode())
    assert answer["status"] == 411
    assert answer["body"]["error"] == "length_required"
    assert "Content-Length" in answer["body"]["message"]
