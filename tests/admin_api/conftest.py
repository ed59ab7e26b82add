"""API keys for the cast (tests/conftest.py): one per role for Alpha Backup, an
Administrator key for Bravo Storage, and a client that sends a key."""

import json

import pytest

from hierarchy.models import Membership
from securecloud.accounts import api_keys

API = "/api/v1/admin"


def make_key(reseller, role=Membership.Role.ADMINISTRATOR, name=None, **kwargs):
    return api_keys.create_api_key(
        reseller,
        name=name or f"{role} key",
        role=role,
        acting_user=None,
        origin="test",
        **kwargs,
    ).secret


class KeyClient:
    """Django's test client, sending `Authorization: Bearer <key>` and JSON bodies."""

    def __init__(self, client, key):
        self.client = client
        self.key = key

    def _headers(self, headers):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.key}", **(headers or {})}

    def get(self, path, params=None, headers=None):
        return self.client.get(API + path, params or {}, **self._headers(headers))

    def _send(self, method, path, body, headers):
        return getattr(self.client, method)(
            API + path,
            data=json.dumps(body) if body is not None else "",
            content_type="application/json",
            **self._headers(headers),
        )

    def post(self, path, body=None, headers=None):
        return self._send("post", path, body if body is not None else {}, headers)

    def patch(self, path, body=None, headers=None):
        return self._send("patch", path, body if body is not None else {}, headers)

    def put(self, path, body=None, headers=None):
        return self._send("put", path, body if body is not None else {}, headers)

    def delete(self, path, headers=None):
        return self.client.delete(API + path, **self._headers(headers))


@pytest.fixture
def admin_key(reseller_a):
    return make_key(reseller_a, Membership.Role.ADMINISTRATOR)


@pytest.fixture
def api(client, admin_key):
    """Alpha Backup's Administrator key."""
    return KeyClient(client, admin_key)


@pytest.fixture
def read_only_api(client, reseller_a):
    return KeyClient(client, make_key(reseller_a, Membership.Role.READ_ONLY))


@pytest.fixture
def technician_api(client, reseller_a):
    return KeyClient(client, make_key(reseller_a, Membership.Role.TECHNICIAN))


@pytest.fixture
def billing_api(client, reseller_a):
    return KeyClient(client, make_key(reseller_a, Membership.Role.BILLING))


@pytest.fixture
def bravo_api(client, reseller_b):
    """Bravo Storage's Administrator key: nothing of Alpha's exists for it."""
    return KeyClient(client, make_key(reseller_b, Membership.Role.ADMINISTRATOR))
