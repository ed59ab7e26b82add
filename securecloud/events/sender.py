"""One HTTP POST to a webhook, to the address the URL guard has just checked (the
connection is pinned to it: TLS still verifies the certificate against the host name).
No redirects are followed; no answer within 10 seconds is a failure."""

import http.client
import socket
import ssl
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from securecloud.events.urlguard import IPAddress, Target, parse_url, resolve

TIMEOUT_SECONDS = 10
USER_AGENT = "SecureCloud-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no answer
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, address: IPAddress, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: IPAddress, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((str(self.address), self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url`; never raises. A URL that now resolves to an internal
    address is not contacted at all."""
    try:
        target = parse_url(url)
        address = resolve(target)[0]
    except ValidationError as exc:
        return Answer(None, " ".join(exc.messages))
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, address, TIMEOUT_SECONDS)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        response = connection.getresponse()
        response.read(64 * 1024)
        return Answer(response.status)
    except TimeoutError:
        return Answer(None, f"No answer within {TIMEOUT_SECONDS} seconds.")
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()
