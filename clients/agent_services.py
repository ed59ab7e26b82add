"""The agent calls that carry a bearer token: backup reports and status.

The views in clients.api only parse HTTP and turn an AgentError into a JSON answer;
every decision is in the agent modules: clients.agent_requests (what an agent may send),
clients.agent_tokens (who it is), clients.agent_connect (connect) and this one.
"""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from clients import agent_store
from clients.agent_requests import AgentError, parse_backup
from clients.agent_tokens import authenticate, client_summary

LAST_SEEN_INTERVAL = timedelta(seconds=60)


def record_backup(authorization: str, data: Any) -> dict[str, Any]:
    """Store a backup report and move the client's and the customer's storage used.

    The token comes first (401/403), then the body (400). The write itself is one
    statement on PostgreSQL (clients.agent_store): it locks the client row, so two
    reports of one client cannot lose a delta.
    """
    now = timezone.now()
    token = authenticate(authorization)
    if isinstance(data, AgentError):  # the body was not JSON
        raise data
    report = parse_backup(data, now, token.client.created_at)
    written = agent_store.write_backup(
        token.client_id,
        started_at=report.started_at,
        finished_at=report.finished_at,
        status=report.status,
        used_bytes=report.used_bytes,
        files=report.files,
        message=report.message,
        now=now,
        securecloud_id=token.client.securecloud_id,
    )
    if written is None:
        # Disabled or deleted since the token was read: its tokens are revoked.
        raise AgentError(401, "invalid_token")
    return {
        "quota_bytes": written.quota_bytes,
        "used_bytes": written.client_used_bytes,
        "customer_used_bytes": written.customer_used_bytes,
        "over_quota": written.over_quota,
    }


def status(authorization: str) -> dict[str, Any]:
    """The connect body without a token; records last seen at most once a minute."""
    token = authenticate(authorization)
    client = token.client
    now = timezone.now()
    if client.last_seen_at is None or client.last_seen_at < now - LAST_SEEN_INTERVAL:
        agent_store.mark_seen(client.pk, now, since=now - LAST_SEEN_INTERVAL)
    return client_summary(client)
