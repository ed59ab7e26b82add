"""The Webhooks page (Reseller Admin → Webhooks): an Administrator adds a webhook (the
secret is never shown again), sees recent deliveries, sends a test, edits and deletes;
another tenant's webhook answers 404; other roles are refused."""

from django.urls import reverse

from hierarchy import memberships
from securecloud.events.models import Webhook, WebhookDelivery
from tests.conftest import PASSWORD

SECRET = "a-very-secret-secret"


def test_add_list_test_edit_and_delete(alice_client, reseller_a, private_ok, receiver):
    page = reverse("webhooks", args=[reseller_a.code])
    assert alice_client.get(reverse("webhooks-home"))["Location"] == page
    response = alice_client.post(
        page, {"url": receiver.url, "secret": SECRET, "event_types": ["backup.failed"]}
    )
    assert response.status_code == 302
    hook = Webhook.objects.get()
    assert hook.event_types == ["backup.failed"] and hook.secret == SECRET
    html = alice_client.get(page).content.decode()
    assert receiver.url in html and SECRET not in html

    alice_client.post(reverse("webhook-test", args=[hook.code]))
    assert receiver.wait(1)[0].headers["X-SecureCloud-Event"] == "webhook.test"
    html = alice_client.get(page).content.decode()
    delivery = WebhookDelivery.objects.get()
    assert str(delivery.event_code) in html and ">200<" in html

    edit = reverse("webhook-edit", args=[hook.code])
    assert SECRET not in alice_client.get(edit).content.decode()
    alice_client.post(edit, {"url": receiver.url, "event_types": [], "secret": ""})
    hook.refresh_from_db()
    assert hook.secret == SECRET and not hook.enabled  # the box was left unticked
    assert len(hook.event_types) == 10

    alice_client.post(reverse("webhook-delete", args=[hook.code]))
    assert not Webhook.objects.exists()


def test_an_internal_address_is_a_form_error(alice_client, reseller_a):
    response = alice_client.post(
        reverse("webhooks", args=[reseller_a.code]),
        {"url": "https://10.0.0.1/hook", "secret": SECRET},
    )
    assert response.status_code == 200
    assert "internal address" in response.content.decode()
    assert not Webhook.objects.exists()


def test_another_tenants_webhook_answers_404(bob_client, reseller_a):
    hook = Webhook.objects.create(reseller=reseller_a, url="https://192.0.2.1/", secret=SECRET)
    assert bob_client.get(reverse("webhooks", args=[reseller_a.code])).status_code == 404
    for name in ("webhook-edit", "webhook-delete", "webhook-test"):
        assert bob_client.post(reverse(name, args=[hook.code])).status_code == 404
    assert Webhook.objects.filter(pk=hook.pk).exists()


def test_a_technician_has_no_webhooks_page(client, reseller_a):
    tech = memberships.add_reseller_admin(
        reseller_a,
        username="tech",
        password=PASSWORD,
        role="technician",
        acting_user=None,
        origin="test",
    ).user
    client.force_login(tech)
    assert client.get(reverse("webhooks", args=[reseller_a.code])).status_code == 403
    assert (
        "Webhooks"
        not in client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    )
