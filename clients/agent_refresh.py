"""The agent's refresh: the refresh token that every successful connect hands out buys a
new bearer token and a new refresh token without the password's hash. Agents that lost
their bearer tokens together come back at the cost of a digest lookup each, not an
Argon2 check each (docs/scaling.md, "Reconnect storms"); the passwords people choose
stay hashed as strongly as before.

The rules, in order:

1. The body is `{"refresh_token": "..."}` (400 otherwise).
2. The token is found by its SHA-256 digest (the only form stored). Unknown, revoked or
   pruned: 401 invalid_refresh_token, counted as a failure of the address; past the
   address's limit of failures, 429 with Retry-After instead (clients.ratelimit). A valid
   token is never refused for its address: nobody guesses 256 bits, the limit only
   bounds what garbage costs, and a refresh that succeeds costs no count.
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
# What a refresh reads: its checks and its answer (client_summary), no more. Whole rows
# of a client and two tree nodes cost more to build than the rest of the refresh.
TOKEN_FIELDS = (
    "id",
    "digest",
    "used_at",
    "client__id",
    "client__securecloud_id",
    "client__plan",
    "client__status",
    "client__trial_ends_at",
    "client__used_bytes",
    "client__customer__id",
    "client__customer__name",
    "client__customer__usage_space_bytes",
    "client__customer__parent__id",
    "client__customer__parent__name",
)
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
    digest = token_digest(token)
    now = timezone.now()
    with transaction.atomic():
        # The token with its client, customer and reseller, the client locked: that
        # orders this refresh with a disable, a password reset or a delete (which lock
        # the client, then revoke its tokens), and with another refresh of the client.
        found = (
            AgentRefreshToken.objects.select_for_update(of=("client",))
            .select_related("client__customer__parent")
            .only(*TOKEN_FIELDS)
            .filter(digest=digest)
            .first()
        )
        # The lookup found it by the indexed column; still compare in constant time.
        known = found is not None and hmac.compare_digest(found.digest, digest)
        if found is not None and known:
            client = found.client
            if found.used_at is None:
                check_client_state(client, now)
                # Used once: only the first of two refreshes that raced here claims it.
                claimed = AgentRefreshToken.objects.filter(
                    pk=found.pk, used_at__isnull=True
                ).update(used_at=now)
                if claimed:
                    return {
                        **client_summary(client),
                        "token": issue_token(client, now),
                        "refresh_token": issue_refresh_token(client, now),
                    }
            # Used already, or just now by a refresh that raced this one.
            _revoke_on_reuse(client, ip)
    # A failure: an unknown token, or a known one used twice (its revocation committed).
    limited = ratelimit.refresh_limited(ip)
    if limited is not None:
        raise AgentError(429, "rate_limited", headers={"Retry-After": str(limited.retry_after)})
    ratelimit.refresh_failed(ip)
    raise AgentError(*INVALID_REFRESH_TOKEN, message=REUSED_MESSAGE if known else INVALID_MESSAGE)


def _revoke_on_reuse(client: Client, ip: str) -> None:
    """Rule 3: revoke every token of the client, and say so once in the audit log."""
    revoke_agent_tokens(client)
    audit.record(
        "client.refresh_token_reused",
        client,
        acting_user=None,
        origin=f"{AGENT_ORIGIN} {ip}",
    )
