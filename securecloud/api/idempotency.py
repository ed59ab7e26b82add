"""Idempotent POSTs: `Idempotency-Key: <any string up to 255 characters>`.

The first request with a key runs inside one transaction that also inserts its
IdempotentRequest row, and stores its answer there before committing. A second request
with the same key (from the same API key, within IDEMPOTENCY_WINDOW) gets that answer
back without running (`Idempotent-Replayed: true`); with a different method, path or
body it gets 422. Two requests at once: the unique index makes the second wait for the
first's commit, then it replays the first's answer, so the object is created once.

Answers that say nothing about the request itself are not kept (401, 429, 5xx): the
client retries those with the same key and they run then.
"""

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from securecloud.accounts.api_keys import digest_of
from securecloud.api.models import IdempotentRequest
from securecloud.api.problems import problem

IDEMPOTENCY_WINDOW = timedelta(hours=24)
MAX_KEY_LENGTH = 255
NOT_KEPT = {401, 429}
KEPT_HEADERS = ("Location", "ETag")

KEY_INVALID = "An Idempotency-Key is 1 to 255 printable ASCII characters (a UUID is a good choice)."
KEY_REUSED = (
    "This Idempotency-Key was already used for a different request (another method, "
    "path or body) in the last 24 hours. Use a new key for a new request."
)


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path(), ""):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _bearer(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _replay(record: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body), status=record.status, content_type=record.content_type
    )
    for name, value in record.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= MAX_KEY_LENGTH and all(" " <= ch <= "~" for ch in key)


def idempotent(run: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an operation's run (ninja's decorate_view) so that it runs once per key."""

    @wraps(run)
    def run_once(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        token = _bearer(request)
        if key is None or token is None:  # not asked for, or refused at authentication
            return run(request, *args, **kwargs)
        if not _valid_key(key):
            return problem(400, KEY_INVALID, errors={"Idempotency-Key": [KEY_INVALID]})
        scope = digest_of(token)
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    # This key's answers older than the window are forgotten here, so the
                    # table holds at most a day of each key's POSTs without a cron job.
                    IdempotentRequest.objects.filter(
                        key_digest=scope, created_at__lt=timezone.now() - IDEMPOTENCY_WINDOW
                    ).delete()
                    record = IdempotentRequest.objects.create(
                        key_digest=scope,
                        idempotency_key=key,
                        fingerprint=fingerprint,
                        status=0,
                        content_type="",
                        body=b"",
                    )
            except IntegrityError:
                first = IdempotentRequest.objects.get(key_digest=scope, idempotency_key=key)
                if first.fingerprint != fingerprint:
                    return problem(422, KEY_REUSED, errors={"Idempotency-Key": [KEY_REUSED]})
                return _replay(first)
            response = run(request, *args, **kwargs)
            if response.status_code in NOT_KEPT or response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.status = response.status_code
            record.content_type = response.get("Content-Type", "")
            record.body = response.content
            record.headers = {name: response[name] for name in KEPT_HEADERS if name in response}
            record.save(update_fields=["status", "content_type", "body", "headers"])
        return response

    return run_once
