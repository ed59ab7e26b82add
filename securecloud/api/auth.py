"""Who calls the admin API: `Authorization: Bearer <key>`, and how often it may.

A usable key (securecloud.accounts.api_keys.authenticate) makes `request.auth` its
`KeyActor`, which every access helper, permission check and service then takes as
it takes a login. Anything else is a 401. Each key may make ADMIN_API_RATE_LIMIT
requests (e.g. "600/min"); past that it gets 429 with Retry-After. The counts live in
Django's cache: per process with the default local-memory cache, shared by every
process once CACHES points at a shared cache.
"""

import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from securecloud.accounts.api_keys import KeyActor, authenticate


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> KeyActor | None:
        return authenticate(token.strip())


def actor(request: HttpRequest) -> KeyActor:
    """The key actor of an authenticated request (the API's operations all have one)."""
    auth = getattr(request, "auth", None)
    assert isinstance(auth, KeyActor), "admin API operations run after authentication"
    return auth


def origin(request: HttpRequest) -> str:
    """The audit log's origin of a write made with this request's key."""
    return actor(request).origin


class KeyRateThrottle(SimpleRateThrottle):
    """Counts each key's requests in a sliding window (the rate is read per request, so
    a changed setting applies at once)."""

    scope = "admin-api-key"

    def __init__(self) -> None:
        self.rate = None

    def allow_request(self, request: HttpRequest) -> bool:
        self.num_requests, self.duration = self.parse_rate(settings.ADMIN_API_RATE_LIMIT)
        return super().allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        auth: Any = getattr(request, "auth", None)
        if not isinstance(auth, KeyActor):
            return None
        return self.cache_format % {"scope": self.scope, "ident": auth.key.code}

    def wait(self) -> float | None:
        """Seconds until the oldest counted request leaves the window."""
        if not self.history:
            return float(self.duration or 1)
        remaining = (self.duration or 0) - (self.now - self.history[-1])
        return float(max(1, math.ceil(remaining)))
