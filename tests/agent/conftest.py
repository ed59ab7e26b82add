"""Helpers for the agent protocol tests (the cast comes from tests/conftest.py).

Acme (customer_a1) has auto-authorization off; East Widgets (customer_a_east) and
Bolt (customer_b1) have it on.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest

CONNECT = "/api/v1/agent/connect"
BACKUPS = "/api/v1/agent/backups"
STATUS = "/api/v1/agent/status"


class Agent:
    """Speaks the protocol through Django's test client, from one address."""

    def __init__(self, client, ip: str = "198.51.100.7"):
        self.client = client
        self.ip = ip

    def post(self, path: str, body, token: str | None = None, **extra):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return self.client.generic(
            "POST", path, data, content_type="application/json", REMOTE_ADDR=self.ip, **extra
        )

    def get(self, path: str, token: str | None = None, **extra):
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return self.client.get(path, REMOTE_ADDR=self.ip, **extra)

    def connect(self, securecloud_id: str, password: str, key: str | None = None, **fields):
        """Keyword arguments are body fields, except HTTP_* ones, which are headers."""
        headers = {name: fields.pop(name) for name in list(fields) if name.startswith("HTTP_")}
        body = {"securecloud_id": securecloud_id, "password": password, **fields}
        if key is not None:
            body["registration_key"] = key
        return self.post(CONNECT, body, **headers)

    def token(self, securecloud_id: str, password: str, key: str | None = None) -> str:
        response = self.connect(securecloud_id, password, key)
        assert response.status_code in (200, 201), response.content
        return response.json()["token"]

    def report(self, token: str | None, **fields):
        """A backup that finished a few seconds ago (a report may not end before its
        client was created, nor ahead of the server's clock)."""
        finished = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
        body = {
            "started_at": (finished - timedelta(minutes=1)).isoformat(),
            "finished_at": finished.isoformat(),
            "status": "success",
            "used_bytes": 1000,
            **fields,
        }
        return self.post(BACKUPS, body, token=token)


@pytest.fixture
def agent(client):
    return Agent(client)
