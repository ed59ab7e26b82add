"""Who an agent is: its bearer tokens and refresh tokens, the check of a token on every
call, the client states that refuse it, and the summary of its client that connect,
refresh and status answer.
"""

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from django.utils import timezone

from clients import agent_store
from clients.agent_requests import AgentError, iso_utc
from clients.models import AgentRefreshToken, AgentToken, Client

TOKENS_KEPT = 5
TOKEN_BYTES = 32
# Live refresh tokens a client keeps, like its bearer tokens (one per agent install that
# connected lately), and used ones kept to recognise a stolen copy (clients.agent_refresh).
REFRESH_TOKENS_KEPT = 5
USED_REFRESH_TOKENS_KEPT = 5


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(client: Client, now: datetime | None = None) -> str:
    """A new bearer token for `client`; only its 5 newest tokens keep working."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    AgentToken.objects.create(
        client=client, digest=token_digest(token), created_at=now or timezone.now()
    )
    # One statement: delete all but the newest (a subquery; a reconnect storm counts them).
    tokens = AgentToken.objects.filter(client=client)
    newest = tokens.order_by("-created_at", "-id").values("id")[:TOKENS_KEPT]
    tokens.exclude(id__in=newest).delete()
    return token


def issue_refresh_token(client: Client, now: datetime | None = None) -> str:
    """A new refresh token for `client` (256 bits, kept as its digest). Only its 5 newest
    live ones keep working, and only its 5 newest used ones are kept."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    AgentRefreshToken.objects.create(
        client=client, digest=token_digest(token), created_at=now or timezone.now()
    )
    tokens = AgentRefreshToken.objects.filter(client=client)
    newest = tokens.order_by("-created_at", "-id").values("id")
    live = newest.filter(used_at__isnull=True)[:REFRESH_TOKENS_KEPT]
    used = newest.filter(used_at__isnull=False)[:USED_REFRESH_TOKENS_KEPT]
    tokens.exclude(id__in=live).exclude(id__in=used).delete()
    return token


def bearer_token(authorization: str) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    return token


def authenticate(authorization: str) -> AgentToken:
    """The token named in an Authorization header, with its client, customer and reseller.

    Raises 401 invalid_token, then 403 client_disabled or trial_expired.
    """
    token = bearer_token(authorization)
    if token is None:
        raise AgentError(401, "invalid_token")
    digest = token_digest(token)
    found = agent_store.find_token(digest)
    # The lookup found it by the indexed column; still compare in constant time.
    if found is None or not hmac.compare_digest(found.digest, digest):
        raise AgentError(401, "invalid_token")
    check_client_state(found.client)
    return found


def check_client_state(client: Client, now: datetime | None = None) -> None:
    if client.is_disabled:
        raise AgentError(403, "client_disabled")
    if client.trial_expired(now):
        raise AgentError(403, "trial_expired")


def client_summary(client: Client) -> dict[str, Any]:
    """The body of a connect success, without the token (also the status answer)."""
    customer = client.customer
    reseller = customer.parent
    return {
        "client": {
            "securecloud_id": client.securecloud_id,
            "plan": client.plan,
            "status": client.status,
            "trial_ends_at": iso_utc(client.trial_ends_at),
        },
        "customer": {"name": customer.name},
        "reseller": {"name": reseller.name if reseller else ""},
        "quota_bytes": customer.usage_space_bytes,
        "used_bytes": client.used_bytes,
    }
