"""The reference SecureCloud backup agent: speaks the agent protocol over HTTP(S).

    python -m clients.agent --server URL [--state FILE] connect --id ID --password PW [--key KEY]
    python -m clients.agent [--state FILE] report --status success --used-bytes N [--files N]
    python -m clients.agent [--state FILE] status

Standard library only, so it runs wherever Python 3.11 does. The token from the last
connect is kept in the state file (default ~/.securecloud-agent.json, mode 0600).
"""

from clients.agent.cli import AgentClient, ApiError, main

__all__ = ["AgentClient", "ApiError", "main"]
