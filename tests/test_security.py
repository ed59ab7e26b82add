"""Sign-in protection, security headers and the production settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def _sign_in(client, username, password, ip="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_failed_sign_ins_lock_that_user_and_address_out(client, alice):
    for _ in range(4):
        response = _sign_in(client, "alice", "wrong-password")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    response = _sign_in(client, "alice", "wrong-password")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    # Locked: even the right password is refused until the cool-off has passed.
    response = _sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lockout_is_per_user_and_address(client, alice, bob):
    for _ in range(5):
        _sign_in(client, "alice", "wrong-password")
    assert _sign_in(client, "alice", PASSWORD, ip="10.0.0.2").status_code == 302
    client.logout()
    assert _sign_in(client, "bob", PASSWORD).status_code == 302


def test_an_ipv6_lockout_holds_for_the_whole_64(client, alice):
    """A new address in the same /64 is the same host: it does not start a new count."""
    for n in range(5):
        _sign_in(client, "alice", "wrong-password", ip=f"2001:db8:5:1::{n + 1}")
    assert _sign_in(client, "alice", PASSWORD, ip="2001:db8:5:1:ffff::1").status_code == 429
    assert _sign_in(client, "alice", PASSWORD, ip="2001:db8:5:2::1").status_code == 302


def test_a_superuser_can_unlock_a_locked_login(client, alice, root):
    from axes.models import AccessAttempt

    for _ in range(5):
        _sign_in(client, "alice", "wrong-password")
    attempt = AccessAttempt.objects.get(username="alice")
    client.force_login(root)
    response = client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    client.logout()
    assert _sign_in(client, "alice", PASSWORD).status_code == 302


def test_security_headers_on_console_pages(alice_client):
    response = alice_client.get(reverse("console-home"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_httponly_and_samesite(client, alice):
    response = _sign_in(client, "alice", PASSWORD)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def _production_env(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests for the live server; a
        # production configuration never has it (check --deploy warns about it).
        if key not in {"DEBUG", "DATABASE_URL", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="a-real-production-secret-key-with-enough-length-and-variety-8431",
        ALLOWED_HOSTS="console.example.com",
        SITE_URL="https://console.example.com",
        HTTPS="1",
        **extra,
    )
    return env


def test_the_deploy_checks_pass_for_a_production_configuration():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_https_turns_on_secure_cookies_hsts_and_ssl_redirect():
    script = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS > 0, s.SECURE_PROXY_SSL_HEADER)"
    )
    env = _production_env(DJANGO_SETTINGS_MODULE="securecloud.settings")
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
    ], result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = _production_env()
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [(0, "6.6.6.6", "10.0.0.9"), (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"), (1, "", "10.0.0.9")],
)
def test_the_client_address_trusts_only_the_configured_proxies(
    rf, settings, proxies, forwarded, expected
):
    from securecloud.http import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_activity_pushes_the_session_expiry_back_at_most_once_a_minute(client, alice, monkeypatch):
    import time as real_time

    from django.contrib.sessions.models import Session

    from securecloud import middleware

    _sign_in(client, "alice", PASSWORD)
    client.get("/")
    session = Session.objects.get()
    first_expiry = session.expire_date
    client.get("/")
    assert Session.objects.get().expire_date == first_expiry  # no write within the minute
    later = real_time.time() + 120
    monkeypatch.setattr(middleware.time, "time", lambda: later)
    client.get("/")
    assert Session.objects.get().expire_date > first_expiry


def test_an_expired_session_signs_the_admin_out(client, alice):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    _sign_in(client, "alice", PASSWORD)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
