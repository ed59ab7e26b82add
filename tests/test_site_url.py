"""The server address that installer cards and emails give: SITE_URL in production; in a
development run without it, the address the console was reached at (`make run` on
another port must not send agents to port 8000)."""

import re
import subprocess
import sys
from io import StringIO

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.urls import reverse

from securecloud.mail.emails import queue_welcome_email
from tests.test_security import ROOT, _production_env

DEV_HOST = "127.0.0.1:8001"
DEV_ADDRESS = f"http://{DEV_HOST}"
DEFAULT_ADDRESS = "http://127.0.0.1:8000"


@pytest.fixture
def dev_run(settings):
    """`make run` on port 8001: DEBUG on, SITE_URL unset."""
    settings.DEBUG = True
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    return settings


def get(client, url, **extra):
    return client.get(url, HTTP_HOST=DEV_HOST, **extra)


def post(client, url, data=None):
    return client.post(url, data or {}, HTTP_HOST=DEV_HOST)


def server_address(page: str) -> str:
    return re.search(r"Server address</dt><dd><code[^>]*>([^<]*)</code>", page).group(1)


def test_the_installer_cards_show_the_address_the_console_was_reached_at(
    dev_run, alice_client, customer_a1, client_a1
):
    customer_page = get(alice_client, reverse("customer-pane", args=[customer_a1.code]))
    assert server_address(customer_page.content.decode()) == DEV_ADDRESS
    client_page = get(alice_client, reverse("client-pane", args=[client_a1.code]))
    assert server_address(client_page.content.decode()) == DEV_ADDRESS


def test_a_configured_site_url_wins_over_the_request(dev_run, alice_client, customer_a1):
    dev_run.SITE_URL = "https://backup.alpha.example/"
    page = get(alice_client, reverse("customer-pane", args=[customer_a1.code]))
    assert server_address(page.content.decode()) == "https://backup.alpha.example"


def test_production_never_takes_the_address_from_the_host_header(
    settings, alice_client, customer_a1
):
    settings.DEBUG = False
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    page = get(alice_client, reverse("customer-pane", args=[customer_a1.code]))
    assert server_address(page.content.decode()) == DEFAULT_ADDRESS


def test_the_welcome_email_sent_from_the_console_gives_the_consoles_address(
    dev_run, alice_client, customer_a1, mailoutbox
):
    response = post(
        alice_client, reverse("customer-welcome", args=[customer_a1.code]), {"action": "send"}
    )
    assert response.status_code == 302
    [message] = mailoutbox
    assert f"enter: {DEV_ADDRESS}" in message.body
    assert DEFAULT_ADDRESS not in message.body
    assert f'href="{DEV_ADDRESS}"' in message.alternatives[0][0]

    post(alice_client, reverse("email-welcome-resend", args=[customer_a1.code]))
    assert f"enter: {DEV_ADDRESS}" in mailoutbox[1].body


def test_a_retried_welcome_email_gives_the_consoles_address(
    dev_run, alice_client, customer_a1, mailoutbox, monkeypatch
):
    from django.core.mail.backends.locmem import EmailBackend

    real_send = EmailBackend.send_messages
    monkeypatch.setattr(EmailBackend, "send_messages", lambda self, m: 1 / 0)
    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")
    assert delivery.status == "failed"
    monkeypatch.setattr(EmailBackend, "send_messages", real_send)

    post(alice_client, reverse("email-retry", args=[customer_a1.code, delivery.code]))
    [message] = mailoutbox
    assert f"enter: {DEV_ADDRESS}" in message.body


def test_invitation_and_reset_links_point_at_the_consoles_address(
    dev_run, alice_client, client, reseller_a, alice, mailoutbox
):
    post(
        alice_client,
        reverse("admin-add", args=[reseller_a.code]),
        {"email": "linda@alpha.example"},
    )
    assert f"{DEV_ADDRESS}/invitation/" in mailoutbox[0].body

    client.post("/account/reset/", {"email": "alice@alpha.example"}, HTTP_HOST=DEV_HOST)
    assert f"{DEV_ADDRESS}/account/reset/" in mailoutbox[1].body


def test_the_report_preview_gives_the_consoles_address(dev_run, alice_client, customer_a1):
    page = get(alice_client, reverse("email-report-preview", args=[customer_a1.code]))
    assert DEV_ADDRESS in page.content.decode()
    assert DEFAULT_ADDRESS not in page.content.decode()


def test_nightly_reports_without_a_request_give_the_configured_address(
    dev_run, customer_a1, client_a1, alice, mailoutbox
):
    call_command("send_backup_reports", stdout=StringIO())
    assert mailoutbox and all(DEFAULT_ADDRESS in m.body for m in mailoutbox)

    mailoutbox.clear()
    dev_run.SITE_URL = "https://console.example.com"
    call_command("send_backup_reports", "--period", "weekly", stdout=StringIO())
    assert mailoutbox and all("https://console.example.com" in m.body for m in mailoutbox)


def _deploy_warnings(settings, value):
    settings.SITE_URL = value
    return [
        message.id
        for message in run_checks(include_deployment_checks=True)
        if message.id.startswith("securecloud.")
    ]


def test_check_deploy_warns_when_site_url_is_unset_or_not_an_address(settings):
    assert _deploy_warnings(settings, "") == ["securecloud.W001"]
    assert _deploy_warnings(settings, "console.example.com") == ["securecloud.W002"]
    assert _deploy_warnings(settings, "https://console.example.com") == []


def test_the_production_check_fails_without_site_url():
    env = _production_env()
    del env["SITE_URL"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "securecloud.W001" in result.stderr + result.stdout
    assert "SITE_URL is not set" in result.stderr + result.stdout


def test_a_queued_welcome_email_keeps_the_address_it_was_sent_from(
    dev_run, alice_client, customer_a1, mailoutbox
):
    from django_tasks_db.models import DBTaskResult

    from securecloud.mail.tasks import send_email_delivery

    dev_run.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    post(alice_client, reverse("email-welcome-resend", args=[customer_a1.code]))
    assert mailoutbox == []
    [job] = DBTaskResult.objects.all()  # what the worker picks up, later, without a request
    send_email_delivery.call(*job.args_kwargs["args"], **job.args_kwargs["kwargs"])
    [message] = mailoutbox
    assert f"enter: {DEV_ADDRESS}" in message.body
