"""The reference agent (`python -m clients.agent`) against the live test server."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from clients.models import BackupReport, Client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(live_server, tmp_path):
    state = tmp_path / "agent-state.json"

    def run(*args: str, server: bool = True) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "clients.agent", "--state", str(state)]
        if server:
            command += ["--server", live_server.url]
        env = {k: v for k, v in os.environ.items() if k != "SECURECLOUD_PASSWORD"}
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
    from clients import services

    assert run("connect", "--id", "a1@acme.example", "--password", "client-pass-1").returncode == 0
    services.disable_client(Client.objects.get(pk=client_a1.pk), acting_user=None, origin="test")
    result = run("status")
    assert result.returncode == 1
    assert "invalid_token (HTTP 401)" in result.stderr


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
