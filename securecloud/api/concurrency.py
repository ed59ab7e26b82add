"""Optimistic concurrency: every object answers with an ETag (a digest of what the API
shows of it), and an update or delete sent with `If-Match` runs only when the object,
read again under a row lock in the same transaction, still has that ETag: otherwise
412. Two updates sent with the same ETag: the second waits for the first's lock, then
sees the new ETag and is refused."""

import hashlib
import json
from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError

CHANGED = (
    "The object has changed since you read it (its ETag differs from If-Match). "
    "Read it again, then send your change with the new ETag."
)


def etag_of(representation: Any) -> str:
    text = json.dumps(representation, sort_keys=True, default=str, separators=(",", ":"))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def _tags(header: str) -> list[str]:
    tags = []
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag:
            tags.append(tag)
    return tags


def check_if_match(request: HttpRequest, current_etag: str) -> None:
    """Refuse (412) unless If-Match is absent, `*`, or lists the current ETag."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = _tags(header)
    if "*" in tags or current_etag in tags:
        return
    raise HttpError(412, CHANGED)
