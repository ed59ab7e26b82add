"""Limits against guessing: 10 failures for one SecureCloud ID from one address, or 30
from one address, in 15 minutes. Failures from elsewhere never lock a client's own
machine out."""

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from clients.models import AuthFailure
from clients.ratelimit import id_ip_key
from tests.agent.conftest import CONNECT, Agent

pytestmark = pytest.mark.django_db

WINDOW = 15 * 60


def assert_limited(response):
    assert response.status_code == 429
    assert response.json() == {"error": "rate_limited"}
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= WINDOW
    return retry_after


def test_ten_failures_for_an_id_from_one_address_block_that_id_there(agent, client_a1):
    for _ in range(10):
        assert agent.connect("a1@acme.example", "wrong-password").status_code == 401
    # From that address, even the right password waits for the window.
    assert_limited(agent.connect("a1@acme.example", "client-pass-1"))
    # The normalised ID counts, whatever its spelling.
    assert_limited(agent.connect(" A1@ACME.example", "client-pass-1"))


def test_an_attacker_elsewhere_cannot_lock_the_clients_own_machine_out(client, client_a1):
    """Twelve wrong passwords for a known SecureCloud ID from another address: the real
    agent's right password is still checked, and lets it in."""
    attacker = Agent(client, ip="203.0.113.66")
    for _ in range(12):
        assert attacker.connect("a1@acme.example", "wrong-password").status_code in (401, 429)
    assert_limited(attacker.connect("a1@acme.example", "client-pass-1"))
    real_agent = Agent(client, ip="198.51.100.20")
    assert real_agent.connect("a1@acme.example", "client-pass-1").status_code == 200
    # Its own wrong password still counts against it, from its address only.
    assert real_agent.connect("a1@acme.example", "wrong-password").status_code == 401


def test_nine_failures_do_not_block(agent, client_a1):
    for _ in range(9):
        agent.connect("a1@acme.example", "wrong-password")
    assert agent.connect("a1@acme.example", "client-pass-1").status_code == 200


def test_limited_attempts_are_not_counted_and_the_window_frees_up(agent, client_a1):
    for _ in range(10):
        agent.connect("a1@acme.example", "wrong-password")
    for _ in range(5):
        assert_limited(agent.connect("a1@acme.example", "wrong-password"))
    assert AuthFailure.objects.filter(key=id_ip_key("a1@acme.example", agent.ip)).count() == 10
    # Fifteen minutes later the window has passed.
    AuthFailure.objects.update(created_at=timezone.now() - timedelta(seconds=WINDOW + 1))
    assert agent.connect("a1@acme.example", "client-pass-1").status_code == 200


def test_retry_after_counts_down_to_when_the_oldest_failure_expires(agent, client_a1):
    for _ in range(10):
        agent.connect("a1@acme.example", "wrong-password")
    # Pretend the failures happened 10 minutes ago: about 5 minutes left.
    AuthFailure.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    retry_after = assert_limited(agent.connect("a1@acme.example", "client-pass-1"))
    assert 290 <= retry_after <= 300


def test_thirty_failures_per_address_block_that_address(agent, client_a1, client_b1):
    for n in range(30):
        response = agent.connect(f"guess-{n}@nowhere.example", "wrong-password")
        assert response.status_code == 401
    # Every ID from this address, the right password included...
    assert_limited(agent.connect("a1@acme.example", "client-pass-1"))
    assert_limited(agent.connect("b1@bolt.example", "client-pass-2"))
    # ...but not from another address.
    other = Agent(agent.client, ip="203.0.113.9")
    assert other.connect("a1@acme.example", "client-pass-1").status_code == 200


def test_limits_are_settings(agent, client_a1, settings):
    settings.AGENT_CONNECT_MAX_FAILURES_PER_ID = 3
    for _ in range(3):
        agent.connect("a1@acme.example", "wrong-password")
    assert_limited(agent.connect("a1@acme.example", "client-pass-1"))


def test_successes_and_validation_errors_do_not_count(agent, client_a1):
    for _ in range(12):
        assert agent.connect("a1@acme.example", "client-pass-1").status_code == 200
        assert agent.post(CONNECT, {"securecloud_id": "a1@acme.example"}).status_code == 400
    assert not AuthFailure.objects.exists()


def test_expired_failures_are_pruned(agent, client_a1):
    AuthFailure.objects.create(key="id:old@example.com", created_at=timezone.now() - timedelta(1))
    agent.connect("a1@acme.example", "wrong-password")
    assert not AuthFailure.objects.filter(key="id:old@example.com").exists()
    assert AuthFailure.objects.count() == 2  # this failure, by ID and address, and by address


def test_forwarded_for_is_ignored_without_a_trusted_proxy(agent, client_a1):
    for n in range(30):
        agent.connect(
            f"guess-{n}@nowhere.example", "wrong-password", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        )
    # Spoofed X-Forwarded-For headers did not spread the failures over 30 addresses.
    assert_limited(agent.connect("a1@acme.example", "client-pass-1"))


def test_trusted_proxy_address_comes_from_forwarded_for(agent, client_a1, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = Agent(agent.client, ip="10.0.0.1")  # every request arrives from the proxy
    for n in range(30):
        proxy.connect(
            f"guess-{n}@nowhere.example",
            "wrong-pass",
            HTTP_X_FORWARDED_FOR="1.1.1.1, 192.0.2.66",  # client-written, then the real one
        )
    assert AuthFailure.objects.filter(key="ip:192.0.2.66").count() == 30
    limited = proxy.connect("a1@acme.example", "client-pass-1", HTTP_X_FORWARDED_FOR="192.0.2.66")
    assert_limited(limited)
    other = proxy.connect("a1@acme.example", "client-pass-1", HTTP_X_FORWARDED_FOR="192.0.2.67")
    assert other.status_code == 200


def _database_env() -> dict:
    """Environment that points a fresh Django process at this test database."""
    db = connection.settings_dict
    env = {**os.environ, "SECRET_KEY": "test-only", "DEBUG": "1"}
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(db["NAME"])
    else:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        env["DATABASE_URL"] = f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    return env


@pytest.mark.django_db(transaction=True)
def test_failures_counted_by_another_process_are_seen(client, client_a1):
    """The counts live in the database: a second server process sees the first's."""
    script = textwrap.dedent(
        """
        import json, django
        django.setup()
        from django.test import Client
        c = Client()
        codes = [
            c.post(
                "/api/v1/agent/connect",
                json.dumps({"securecloud_id": "a1@acme.example", "password": "wrong-password"}),
                content_type="application/json",
                REMOTE_ADDR="203.0.113.77",
            ).status_code
            for _ in range(10)
        ]
        print(json.dumps(codes))
        """
    )
    env = {**_database_env(), "DJANGO_SETTINGS_MODULE": "securecloud.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[" + ", ".join(["401"] * 10) + "]"
    # This process sees them: from that address, the right password included is refused...
    assert_limited(Agent(client, ip="203.0.113.77").connect("a1@acme.example", "client-pass-1"))
    # ...while the client's own machine, elsewhere, gets in.
    assert (
        Agent(client, ip="198.51.100.1").connect("a1@acme.example", "client-pass-1").status_code
        == 200
    )


def test_an_ipv6_guesser_cannot_escape_the_limit_by_changing_address_in_its_64(client, client_a1):
    """An IPv6 host usually holds a whole /64: counted per address, every guess could
    come from a new one. The limits count an IPv6 address's /64."""
    for n in range(10):
        guesser = Agent(client, ip=f"2001:db8:66:1::{n + 1:x}")
        assert guesser.connect("a1@acme.example", "wrong-password").status_code == 401
    assert_limited(Agent(client, ip="2001:db8:66:1:ffff::1").connect("a1@acme.example", "x"))
    # Another /64 (the client's own machine) is not held up.
    own = Agent(client, ip="2001:db8:66:2::1")
    assert own.connect("a1@acme.example", "client-pass-1").status_code == 200


def test_an_ipv4_mapped_address_counts_as_its_ipv4_address(client, client_a1):
    for _ in range(10):
        Agent(client, ip="::ffff:203.0.113.9").connect("a1@acme.example", "wrong-password")
    assert_limited(Agent(client, ip="203.0.113.9").connect("a1@acme.example", "client-pass-1"))
    assert (
        Agent(client, ip="203.0.113.10").connect("a1@acme.example", "client-pass-1").status_code
        == 200
    )
