"""The reference agent (`python -m clients.agent`) against the live test server."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from clients import connect_queue, services
from clients.agent import cli
from clients.models import AgentRefreshToken, AgentToken, BackupReport, Client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(live_server, tmp_path):
    state = tmp_path / "agent-state.json"

    def run(*args: str, server: bool = True, password: str | None = None):
        command = [sys.executable, "-m", "clients.agent", "--state", str(state)]
        if server:
            command += ["--server", live_server.url]
        env = {k: v for k, v in os.environ.items() if k != "SECURECLOUD_PASSWORD"}
        if password is not None:
            env["SECURECLOUD_PASSWORD"] = password
        return subprocess.run(
            command + list(args),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    run.state = state
    return run


@pytest.mark.django_db(transaction=True)
def test_connect_report_status_round_trip(run, customer_a_east):
    key = customer_a_east.registration_key
    result = run(
        "connect", "--id", "laptop@east.example", "--password", "agent-pass-1", "--key", key
    )
    assert result.returncode == 0, result.stderr
    assert "Created and connected." in result.stdout
    assert "East Widgets" in result.stdout
    assert "Alpha East" in result.stdout

    # The token is kept in a file only its owner can read.
    assert stat.S_IMODE(run.state.stat().st_mode) == 0o600
    saved = json.loads(run.state.read_text())
    assert saved["securecloud_id"] == "laptop@east.example"
    assert len(saved["token"]) >= 43

    client = Client.objects.get(securecloud_id="laptop@east.example")
    assert client.customer_id == customer_a_east.pk
    assert client.agent_version.startswith("securecloud-reference-agent/")

    # The server is remembered: later commands need only the state file.
    result = run(
        "report",
        "--status",
        "success",
        "--used-bytes",
        "123456",
        "--files",
        "42",
        "--message",
        "nightly",
        server=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Backup reported (success)." in result.stdout
    report = BackupReport.objects.get(client=client)
    assert (report.used_bytes, report.files, report.message) == (123456, 42, "nightly")

    result = run("--json", "status", server=False)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["used_bytes"] == 123456
    assert body["client"]["status"] == "active"

    # A second connect with the password alone (the key is only for the first).
    result = run("connect", "--id", "laptop@east.example", "--password", "agent-pass-1")
    assert result.returncode == 0, result.stderr
    assert "Connected." in result.stdout


@pytest.mark.django_db(transaction=True)
def test_errors_are_printed_plainly_with_a_non_zero_exit(run, client_a1):
    result = run("connect", "--id", "a1@acme.example", "--password", "wrong-password")
    assert result.returncode == 1
    assert "invalid_credentials (HTTP 401)" in result.stderr
    # Without a key, the agent is told that a new or not yet connected client needs one.
    assert "A registration key is required for a new or not yet connected client" in (result.stderr)
    assert not run.state.exists()

    result = run(
        "connect",
        "--id",
        "new@east.example",
        "--password",
        "short",
        "--key",
        client_a1.customer.registration_key,
    )
    assert result.returncode == 1
    assert "HTTP 4" in result.stderr

    result = run("status")
    assert result.returncode == 2
    assert "not connected" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_revoked_token_is_reported(run, client_a1):
    assert run("connect", "--id", "a1@acme.example", "--password", "client-pass-1").returncode == 0
    services.disable_client(Client.objects.get(pk=client_a1.pk), acting_user=None, origin="test")
    result = run("status")
    assert result.returncode == 1
    assert "invalid_token (HTTP 401)" in result.stderr
    assert "run connect again" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_unreachable_server(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "clients.agent", "--server", "http://127.0.0.1:9",
         "--state", str(tmp_path / "s.json"), "connect", "--id", "x@y.example",
         "--password", "abcdefgh"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "cannot reach the server" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_refused_token_is_renewed_with_the_refresh_token(run, client_a1):
    assert run("connect", "--id", "a1@acme.example", "--password", "client-pass-1").returncode == 0
    saved = json.loads(run.state.read_text())
    assert len(saved["refresh_token"]) >= 43
    # The server lost the bearer tokens (a restore, a mass revocation of bearer tokens).
    AgentToken.objects.all().delete()

    result = run("status", server=False)
    assert result.returncode == 0, result.stderr
    assert "a1@acme.example" in result.stdout
    renewed = json.loads(run.state.read_text())
    assert renewed["token"] != saved["token"]
    assert renewed["refresh_token"] != saved["refresh_token"]
    # The old refresh token was used; the new one is the client's only live one.
    assert AgentRefreshToken.objects.filter(used_at__isnull=True).count() == 1
    assert stat.S_IMODE(run.state.stat().st_mode) == 0o600
    # And the renewed token reports backups.
    result = run("report", "--status", "success", "--used-bytes", "1", server=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_refused_refresh_token_falls_back_to_the_password(run, client_a1):
    assert run("connect", "--id", "a1@acme.example", "--password", "client-pass-1").returncode == 0
    # A password reset revokes both tokens; the agent's owner sets the new password.
    client = Client.objects.get(pk=client_a1.pk)
    services.set_client_password(client, "new-pass-123", acting_user=None, origin="test")

    result = run("status", server=False, password="new-pass-123")
    assert result.returncode == 0, result.stderr
    renewed = json.loads(run.state.read_text())
    assert AgentToken.objects.filter(client=client).count() == 1
    assert renewed["refresh_token"]

    # Without the password at hand, the agent says what to do.
    services.set_client_password(client, "newer-pass-123", acting_user=None, origin="test")
    result = run("status", server=False)
    assert result.returncode == 1
    assert "invalid_token (HTTP 401)" in result.stderr
    assert "run connect again" in result.stderr
    # The refused refresh token is forgotten, so it is not tried again.
    assert json.loads(run.state.read_text())["refresh_token"] is None


@pytest.mark.django_db(transaction=True)
def test_a_busy_server_is_waited_out(live_server, tmp_path, client_a1, settings, monkeypatch):
    """A connect refused with 503 and Retry-After waits that long and tries again."""
    settings.AGENT_CONNECT_CONCURRENCY = 1
    settings.AGENT_CONNECT_WAIT_SECONDS = 0
    slots = connect_queue.slots()
    slots.acquire()  # the server's only slot is taken
    waits = []

    def wait(seconds):
        waits.append(seconds)
        slots.release()  # meanwhile the other connect finished

    monkeypatch.setattr(cli, "_wait", wait)
    state = tmp_path / "state.json"
    argv = ["--server", live_server.url, "--state", str(state), "connect"]
    argv += ["--id", "a1@acme.example", "--password", "client-pass-1"]
    try:
        assert cli.main(argv) == 0
    finally:
        if not waits:  # never retried: give the slot back for the tests after this one
            slots.release()
    low, high = connect_queue.RETRY_AFTER_SECONDS
    assert len(waits) == 1 and low <= waits[0] <= high
    assert json.loads(state.read_text())["securecloud_id"] == "a1@acme.example"
