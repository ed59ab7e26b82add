"""Command line and HTTP client of the reference agent (standard library only).

The state file keeps the server, the SecureCloud ID, the bearer token and the refresh
token, never the password. When the server refuses the bearer token (401 invalid_token),
the agent trades its refresh token for a new pair (no password check on the server) and
tries once more; when the refresh token is refused too, it connects with the password
if $SECURECLOUD_PASSWORD holds it, else it says to run connect. A 503 with Retry-After
(the server is busy or cannot reach its database) is waited out and retried, a few times.
"""

import argparse
import getpass
import json
import os
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AGENT_VERSION = "securecloud-reference-agent/1.0"
DEFAULT_STATE = Path("~/.securecloud-agent.json")
API_PREFIX = "/api/v1"
TIMEOUT = 30
# A 503 with Retry-After is retried this many times, waiting at most MAX_RETRY_WAIT each.
BUSY_RETRIES = 5
MAX_RETRY_WAIT = 300


class ApiError(Exception):
    """The server answered with an error (or could not be reached: status 0)."""

    def __init__(self, status: int, code: str, body: dict | None = None, retry_after=None):
        super().__init__(code)
        self.status = status
        self.code = code
        self.body = body or {}
        self.retry_after = retry_after

    def __str__(self) -> str:
        if self.status == 0:
            return f"cannot reach the server: {self.code}"
        text = f"{self.code} (HTTP {self.status})"
        if self.body.get("message"):
            text += f"\n  {self.body['message']}"
        for field, message in (self.body.get("fields") or {}).items():
            text += f"\n  {field}: {message}"
        if self.retry_after:
            text += f"\n  retry after {self.retry_after} seconds"
        return text


def _wait(seconds: float) -> None:
    time.sleep(seconds)


def _retry_after(exc: ApiError) -> int | None:
    """Seconds to wait before trying a refused call again, or None for no retry."""
    if exc.status != 503 or exc.retry_after is None:
        return None
    try:
        seconds = int(exc.retry_after)
    except ValueError:
        return None
    return min(max(seconds, 1), MAX_RETRY_WAIT)


class AgentClient:
    """One server, optionally one token and one refresh token: the calls of the protocol."""

    def __init__(
        self,
        server: str,
        token: str | None = None,
        timeout: float = TIMEOUT,
        refresh_token: str | None = None,
    ):
        self.server = server.rstrip("/")
        self.token = token
        self.refresh_token = refresh_token
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """One call; a 503 with Retry-After is waited out and tried again."""
        for attempt in range(BUSY_RETRIES + 1):
            try:
                return self._call_once(method, path, body)
            except ApiError as exc:
                wait = _retry_after(exc)
                if wait is None or attempt == BUSY_RETRIES:
                    raise
                print(f"server busy ({exc.code}); trying again in {wait} s", file=sys.stderr)
                _wait(wait)
        raise AssertionError("unreachable")

    def _call_once(self, method: str, path: str, body: dict | None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server + API_PREFIX + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", AGENT_VERSION)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, _decode(response.read())
        except urllib.error.HTTPError as exc:
            payload = _decode(exc.read())
            raise ApiError(
                exc.code,
                str(payload.get("error") or exc.reason),
                payload,
                exc.headers.get("Retry-After"),
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(0, str(reason)) from None

    def connect(
        self,
        securecloud_id: str,
        password: str,
        registration_key: str | None = None,
        hostname: str | None = None,
    ) -> tuple[int, dict]:
        body = {
            "securecloud_id": securecloud_id,
            "password": password,
            "hostname": hostname or socket.gethostname(),
            "agent_version": AGENT_VERSION,
        }
        if registration_key:
            body["registration_key"] = registration_key
        status, answer = self._call("POST", "/agent/connect", body)
        self.token = answer.get("token")
        self.refresh_token = answer.get("refresh_token")
        return status, answer

    def refresh(self) -> dict:
        """Trade the refresh token for a new token and refresh token (no password)."""
        _, answer = self._call("POST", "/agent/refresh", {"refresh_token": self.refresh_token})
        self.token = answer.get("token")
        self.refresh_token = answer.get("refresh_token")
        return answer

    def report(self, **fields: Any) -> dict:
        return self._call("POST", "/agent/backups", fields)[1]

    def status(self) -> dict:
        return self._call("GET", "/agent/status")[1]


def _decode(raw: bytes) -> dict:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# State file -----------------------------------------------------------------


def load_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: cannot read the state file {path}: {exc}") from None


def save_state(path: Path, state: dict) -> None:
    """Write atomically, readable and writable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".securecloud-agent-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(state, handle, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)


# Command line ---------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m clients.agent", description="SecureCloud reference backup agent."
    )
    parser.add_argument("--server", help="e.g. https://backup.example.com (saved on connect)")
    parser.add_argument(
        "--state",
        type=Path,
        default=Path(os.environ.get("SECURECLOUD_AGENT_STATE", DEFAULT_STATE)),
        help="state file holding the token (default ~/.securecloud-agent.json)",
    )
    parser.add_argument("--json", action="store_true", help="print the server's JSON answer")
    commands = parser.add_subparsers(dest="command", required=True)

    connect = commands.add_parser("connect", help="sign in and save a new token")
    connect.add_argument("--id", required=True, dest="securecloud_id", help="SecureCloud ID")
    connect.add_argument(
        "--password", help="client password (else $SECURECLOUD_PASSWORD, else asked)"
    )
    connect.add_argument("--key", help="the customer's registration key (first connect)")
    connect.add_argument("--hostname", help="this machine's name (default: the host name)")

    report = commands.add_parser("report", help="report a finished backup")
    report.add_argument("--status", required=True, choices=["success", "warning", "failed"])
    report.add_argument("--used-bytes", required=True, type=_non_negative)
    report.add_argument("--files", type=_non_negative)
    report.add_argument("--message", default="")
    report.add_argument("--started-at", help="ISO 8601 with offset (default: now)")
    report.add_argument("--finished-at", help="ISO 8601 with offset (default: now)")

    commands.add_parser("status", help="show this client's plan, state and storage")
    return parser


def _size(value) -> str:
    if value is None:
        return "unlimited"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return str(value)


def _print_summary(answer: dict) -> None:
    client = answer.get("client", {})
    plan = client.get("plan")
    if plan == "trial":
        plan += f" until {client.get('trial_ends_at')}"
    print(f"Client:   {client.get('securecloud_id')} ({client.get('status')}, {plan})")
    print(f"Customer: {answer.get('customer', {}).get('name')}")
    print(f"Reseller: {answer.get('reseller', {}).get('name')}")
    used, quota = _size(answer.get("used_bytes")), _size(answer.get("quota_bytes"))
    print(f"Storage:  {used} used; quota {quota}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    state_path = args.state.expanduser()
    state = load_state(state_path)
    server = args.server or state.get("server")
    if not server:
        print("error: give --server URL (it is saved by the first connect)", file=sys.stderr)
        return 2

    try:
        if args.command == "connect":
            password = args.password or os.environ.get("SECURECLOUD_PASSWORD")
            if not password:
                password = getpass.getpass("Client password: ")
            agent = AgentClient(server)
            status, answer = agent.connect(args.securecloud_id, password, args.key, args.hostname)
            save_state(
                state_path,
                {
                    "server": server,
                    "securecloud_id": answer["client"]["securecloud_id"],
                    "token": answer["token"],
                    # Servers before the refresh credential send none.
                    "refresh_token": answer.get("refresh_token"),
                    "connected_at": _now(),
                },
            )
            if args.json:
                print(json.dumps(answer, indent=2))
            else:
                print("Created and connected." if status == 201 else "Connected.")
                _print_summary(answer)
                print(f"Token saved in {state_path}")
            return 0

        token = state.get("token")
        if not token:
            print(f"error: not connected (no token in {state_path}); run connect", file=sys.stderr)
            return 2
        agent = AgentClient(server, token, refresh_token=state.get("refresh_token"))
        if args.command == "report":
            now = _now()
            fields = {
                "started_at": args.started_at or args.finished_at or now,
                "finished_at": args.finished_at or now,
                "status": args.status,
                "used_bytes": args.used_bytes,
                "message": args.message,
            }
            if args.files is not None:
                fields["files"] = args.files
            answer = _renewing(agent, state, state_path, lambda: agent.report(**fields))
            if args.json:
                print(json.dumps(answer, indent=2))
            else:
                print(f"Backup reported ({args.status}).")
                print(
                    f"Storage: {_size(answer['used_bytes'])} for this client; customer "
                    f"{_size(answer['customer_used_bytes'])} of {_size(answer['quota_bytes'])}"
                )
                if answer.get("over_quota"):
                    print("Warning: the customer is over its usage space.")
            return 0

        answer = _renewing(agent, state, state_path, agent.status)
        if args.json:
            print(json.dumps(answer, indent=2))
        else:
            _print_summary(answer)
        return 0
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.code == "invalid_token":
            print(
                "  neither a refresh token nor a password could renew it: run connect "
                "again (or set SECURECLOUD_PASSWORD to let the agent connect by itself)",
                file=sys.stderr,
            )
        return 1


def _renewing(agent: AgentClient, state: dict, state_path: Path, call: Callable[[], dict]) -> dict:
    """`call`; when the bearer token is refused, renew it (refresh token, else password)
    and try once more. Any other error, or no way to renew, raises the first error."""
    try:
        return call()
    except ApiError as exc:
        if (exc.status, exc.code) != (401, "invalid_token") or not _renew(agent, state, state_path):
            raise
    return call()


def _renew(agent: AgentClient, state: dict, state_path: Path) -> bool:
    """A new bearer token, saved with its refresh token; False when neither the refresh
    token nor a password ($SECURECLOUD_PASSWORD) is at hand or works."""
    if agent.refresh_token:
        try:
            agent.refresh()
        except ApiError as exc:
            # A spent or revoked refresh token (401), or too many failures here (429):
            # forget it and try the password. Anything else (a disabled client) is the answer.
            if exc.status not in (401, 429):
                raise
            agent.refresh_token = None
            _save_tokens(state, state_path, agent)
        else:
            _save_tokens(state, state_path, agent)
            return True
    password = os.environ.get("SECURECLOUD_PASSWORD")
    if not password or not state.get("securecloud_id"):
        return False
    try:
        agent.connect(state["securecloud_id"], password)
    except ApiError as exc:
        if exc.status == 401:
            return False
        raise
    _save_tokens(state, state_path, agent)
    return True


def _save_tokens(state: dict, state_path: Path, agent: AgentClient) -> None:
    state.update(token=agent.token, refresh_token=agent.refresh_token, renewed_at=_now())
    save_state(state_path, state)
