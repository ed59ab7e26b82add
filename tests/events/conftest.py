"""A real HTTP receiver on 127.0.0.1 for the webhook tests: it records every request
(headers and raw body) and answers with the status codes it is told, in turn."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def wait(self, count: int = 1, seconds: float = 5) -> list[Received]:
        """The requests, once `count` have arrived (or after `seconds`)."""
        for _ in range(int(seconds * 20)):
            if len(self.requests) >= count:
                break
            self.arrived.wait(0.05)
        return self.requests


@pytest.fixture
def receiver():
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            target = state["receiver"]
            target.requests.append(Received(self.path, dict(self.headers.items()), body))
            status = target.answers.pop(0) if target.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            target.arrived.set()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/sc")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def private_ok(settings):
    """Internal addresses and plain http allowed, as for an on-premises receiver."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    return settings
