"""The agent's refresh: the refresh token that every successful connect hands out buys a
new bearer token and a new refresh token without the password's hash. Agents that lost
their bearer tokens together come back at the cost of a digest lookup each, not an
Argon2 check each (docs/scaling.md, "Reconnect storms"); the passwords people choose
stay hashed as strongly as before.

The rules, in order:

1. The body is `{"refresh_token": "..."}` (400 otherwise), and the address is under its
   limit of failed refreshes (429 with Retry-After; clients.ratelimit).
2. The token is found by its SHA-256 digest (the only form stored). Unknown, revoked or
   pruned: 401 invalid_refresh_token, counted as a failure of the address.
3. Used already: a refresh token works once, so a second use means that two parties
   hold it, the agent and a thief, in either order. Every refresh token *and bearer
   token* of the client is revoked (the thief may hold a bearer token bought with it),
   one audit event `client.refresh_token_reused` says so, and the answer is 401
   invalid_refresh_token: the client's agents connect with the password again. Later
   presentations of it are unknown tokens (rule 2), so it is audited once.
4. The client's state, as for connect: 403 client_disabled, 403 trial_expired. The
   token is not used up (a trial switched to paid refreshes again); disabling a client
   revokes its refresh tokens anyway (clients.services.revoke_agent_tokens, also on a
   password reset and a delete, not on a move).
5. The token is marked used, and the answer is a connect's: the client's summary, a
   new bearer token and a new refresh token.

A successful refresh writes no audit event, like a connect (only a connect that claims
or adds a client is audited): a storm would write one row per agent saying nothing. Nor
does it touch the client row; the agent's next call records it as seen.
"""

import hmac
from typing import Any

from django.db import transaction
from django.utils import timezone

from clients import ratelimit
from clients.agent_requests import INVALID_REFRESH_TOKEN, AgentError, parse_refresh
from clients.agent_tokens import (
    check_client_state,
    client_summary,
    issue_refresh_token,
    issue_token,
    token_digest,
)
from clients.models import AgentRefreshToken, Client
from clients.services import revoke_agent_tokens
from hierarchy import audit

AGENT_ORIGIN = "agent"
INVALID_MESSAGE = (
    "This refresh token is unknown, revoked or used already. Connect with the client's "
    "SecureCloud ID and password."
)
REUSED_MESSAGE = (
    "This refresh token was used already: every token of this client is revoked. Connect "
    "with the client's SecureCloud ID and password."
)


def refresh(data: Any, *, ip: str) -> dict[str, Any]:
    """Rules 1-5 above; the answer's body, or AgentError."""
    token = parse_refresh(data)
    limited = ratelimit.refresh_limited(ip)
    if limited is not None:
        raise AgentError(429, "rate_limited", headers={"Retry-After": str(limited.retry_after)})

    digest = token_digest(token)
    found = (
        AgentRefreshToken.objects.filter(digest=digest)
        .only("id", "client", "digest", "used_at")
        .first()
    )
    # The lookup found it by the indexed column; still compare in constant time.
    if found is None or not hmac.compare_digest(found.digest, digest):
        raise _failed(ip, INVALID_MESSAGE)
    if found.used_at is not None:
        _revoke_on_reuse(found, ip)
        raise _failed(ip, REUSED_MESSAGE)

    now = timezone.now()
    with transaction.atomic():
        # The client's lock orders this refresh with a disable or a password reset
        # (both lock the row): either this one sees the new state, or they revoke the
        # tokens it issues.
        client = (
            Client.objects.select_for_update(of=("self",))
            .select_related("customer__parent")
            .filter(pk=found.client_id)
            .first()
        )
        if client is None:  # deleted meanwhile, its tokens with it
            raise _failed(ip, INVALID_MESSAGE)
        check_client_state(client, now)
        claimed = AgentRefreshToken.objects.filter(pk=found.pk, used_at__isnull=True).update(
            used_at=now
        )
        if claimed:
            return {
                **client_summary(client),
                "token": issue_token(client, now),
                "refresh_token": issue_refresh_token(client, now),
            }
    # Another refresh used it between the lookup and the claim: a reuse too, unless it
    # was revoked meanwhile.
    if AgentRefreshToken.objects.filter(pk=found.pk).exists():
        _revoke_on_reuse(found, ip)
        raise _failed(ip, REUSED_MESSAGE)
    raise _failed(ip, INVALID_MESSAGE)


def _failed(ip: str, message: str) -> AgentError:
    ratelimit.refresh_failed(ip)
    return AgentError(*INVALID_REFRESH_TOKEN, message=message)


def _revoke_on_reuse(found: AgentRefreshToken, ip: str) -> None:
    """Rule 3: revoke every token of the client, and say so once in the audit log."""
    with transaction.atomic():
        client = (
            Client.objects.select_for_update(of=("self",))
            .select_related("customer__parent")
            .filter(pk=found.client_id)
            .first()
        )
        if client is None:
            return
        revoke_agent_tokens(client)
        audit.record(
            "client.refresh_token_reused",
            client,
            acting_user=None,
            origin=f"{AGENT_ORIGIN} {ip}",
        )
