"""Where a webhook may point: https only, and never an internal address, whether the
URL names it (IPv4 or IPv6 literal) or a name resolves to it; checked when it is
saved and again at delivery (DNS rebinding). WEBHOOK_ALLOW_PRIVATE=1 allows both."""

import socket

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from securecloud.events import webhooks
from securecloud.events.models import Webhook, WebhookDelivery

SECRET = "a-very-secret-secret"
PUBLIC = "93.184.215.14"


def add(reseller, url):
    return webhooks.create_webhook(
        reseller, url=url, secret=SECRET, acting_user=None, origin="test"
    )


@pytest.fixture
def dns(monkeypatch):
    """Names resolve to what the test says (a dict name -> addresses)."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in table:
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, port),
                )
                for address in table[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return table


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.9/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fd00::5]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[2002:7f00:1::]/hook",  # 6to4 around 127.0.0.1
        "https://localhost/hook",
    ],
)
def test_internal_literals_and_localhost_are_refused(reseller_a, url):
    with pytest.raises(ValidationError) as refused:
        add(reseller_a, url)
    assert "internal address" in str(refused.value)
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("addresses", [["192.168.0.7"], ["::1"], [PUBLIC, "10.0.0.8"], ["fe80::2"]])
def test_names_that_resolve_to_internal_addresses_are_refused(reseller_a, dns, addresses):
    dns["hooks.example.com"] = addresses
    with pytest.raises(ValidationError, match="internal address"):
        add(reseller_a, "https://hooks.example.com/in")


def test_a_public_https_url_is_kept_and_plain_http_refused(reseller_a, dns):
    dns["hooks.example.com"] = [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    hook = add(reseller_a, "https://hooks.example.com/in")
    assert hook.url == "https://hooks.example.com/in"
    with pytest.raises(ValidationError, match="https://"):
        add(reseller_a, "http://hooks.example.com/in")
    for bad in ("ftp://hooks.example.com/", "https://user:pw@hooks.example.com/", "not a url"):
        with pytest.raises(ValidationError):
            add(reseller_a, bad)


def test_a_name_that_rebinds_to_an_internal_address_is_not_contacted(reseller_a, dns, monkeypatch):
    dns["rebind.example.com"] = [PUBLIC]
    hook = add(reseller_a, "https://rebind.example.com/in")
    dns["rebind.example.com"] = ["127.0.0.1"]
    contacted = []
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: contacted.append(args))
    delivery = webhooks.send_test(hook, acting_user=None, origin="test")
    assert contacted == []
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "internal address" in delivery.error


def test_the_connection_goes_to_the_address_that_was_checked(reseller_a, dns, monkeypatch):
    dns["hooks.example.com"] = [PUBLIC]
    hook = add(reseller_a, "https://hooks.example.com/in")
    contacted = []

    def refuse(address, *args, **kwargs):
        contacted.append(address)
        raise ConnectionRefusedError("test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    webhooks.send_test(hook, acting_user=None, origin="test")
    assert contacted == [(PUBLIC, 443)]


def test_private_addresses_and_http_when_allowed(reseller_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    assert add(reseller_a, "http://127.0.0.1:8080/hook").url == "http://127.0.0.1:8080/hook"
    assert add(reseller_a, "http://[::1]:8080/hook")


def test_add_webhook_command(reseller_a, settings, capsys):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    call_command(
        "add_webhook",
        "--reseller",
        "Alpha Backup",
        "--url",
        "http://127.0.0.1:9000/in",
        "--secret",
        SECRET,
        "--events",
        "backup.failed,trial.expired",
    )
    hook = Webhook.objects.get()
    assert hook.event_types == ["backup.failed", "trial.expired"]
    assert hook.reseller == reseller_a and hook.secret == SECRET
    assert SECRET not in capsys.readouterr().out
    with pytest.raises(CommandError, match="Unknown event type: backup.explode"):
        call_command(
            "add_webhook",
            "--reseller",
            "Alpha Backup",
            "--url",
            "http://127.0.0.1:9000/in",
            "--secret",
            SECRET,
            "--events",
            "backup.explode",
        )
    with pytest.raises(CommandError, match="secret"):
        call_command(
            "add_webhook",
            "--reseller",
            "Alpha Backup",
            "--url",
            "http://127.0.0.1:9000/in",
            "--secret",
            "short",
        )
    with pytest.raises(CommandError, match="No reseller named"):
        call_command(
            "add_webhook",
            "--reseller",
            "Nobody",
            "--url",
            "http://127.0.0.1:9000/in",
            "--secret",
            SECRET,
        )
    assert Webhook.objects.count() == 1
