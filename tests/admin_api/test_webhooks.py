"""`/webhooks` in the admin API: an Administrator's key adds a webhook, reads it (never
its secret), sends a test that a real receiver gets signed, lists the deliveries,
switches it off and deletes it, through the Webhooks page's services; the same
refusals as the page (internal addresses, short secrets)."""

import hashlib
import hmac
import json

import pytest

from hierarchy.models import AuditEvent
from securecloud.events.models import Webhook
from tests.events.conftest import private_ok, receiver  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

SECRET = "a-shared-secret-of-32-characters"


def test_a_webhook_from_creation_to_deletion(api, reseller_a, receiver, private_ok):  # noqa: F811
    created = api.post(
        "/webhooks", {"url": receiver.url, "secret": SECRET, "event_types": ["backup.failed"]}
    )
    assert created.status_code == 201, created.content
    hook = created.json()
    assert hook["reseller"] == str(reseller_a.code)
    assert hook["event_types"] == ["backup.failed"] and hook["enabled"] is True
    assert SECRET not in created.content.decode()
    assert AuditEvent.objects.filter(
        action="webhook.created", origin="API key administrator key"
    ).exists()

    listed = api.get("/webhooks").json()["results"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert SECRET not in api.get(f"/webhooks/{hook['id']}").content.decode()

    test = api.post(f"/webhooks/{hook['id']}/test")
    assert test.status_code == 200, test.content
    assert test.json()["status"] == "succeeded"
    (sent,) = receiver.wait(1)
    signature = hmac.new(SECRET.encode(), sent.body, hashlib.sha256).hexdigest()
    assert sent.headers["X-SecureCloud-Signature"] == f"sha256={signature}"
    assert json.loads(sent.body)["id"] == test.json()["event_id"]
    deliveries = api.get(f"/webhooks/{hook['id']}/deliveries").json()
    assert [d["id"] for d in deliveries] == [test.json()["id"]]

    off = api.patch(f"/webhooks/{hook['id']}", {"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert api.delete(f"/webhooks/{hook['id']}").status_code == 204
    assert not Webhook.objects.exists()


def test_internal_addresses_and_short_secrets_are_refused(api):
    answer = api.post("/webhooks", {"url": "https://127.0.0.1/hook", "secret": "short"})
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"url", "secret"}
    plain = api.post("/webhooks", {"url": "http://hooks.example/x", "secret": SECRET})
    assert plain.status_code == 422 and "url" in plain.json()["errors"]
    assert not Webhook.objects.exists()


def test_only_an_administrator_manages_webhooks(technician_api, read_only_api, private_ok):  # noqa: F811
    body = {"url": "http://127.0.0.1:9/hook", "secret": SECRET}
    for api in (technician_api, read_only_api):
        assert api.get("/webhooks").status_code == 403
        assert api.post("/webhooks", body).status_code == 403
    assert not Webhook.objects.exists()
