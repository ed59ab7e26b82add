"""The OpenAPI 3 description of the agent protocol, served at /api/v1/openapi.json."""

from copy import deepcopy
from typing import Any

from clients.agent_requests import (
    BACKUP_STATUSES,
    MAX_AGENT_VERSION_LENGTH,
    MAX_CLIENT_USED_BYTES,
    MAX_CLOCK_SKEW,
    MAX_HOSTNAME_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_PASSWORD_FIELD_LENGTH,
    MAX_REFRESH_TOKEN_LENGTH,
    MAX_REGISTRATION_KEY_LENGTH,
    MAX_SIZE,
)

ERROR_CODES = [
    "invalid_request",
    "invalid_credentials",
    "invalid_token",
    "invalid_refresh_token",
    "authorization_required",
    "authorization_pending",
    "client_disabled",
    "trial_expired",
    "method_not_allowed",
    "payload_too_large",
    "length_required",
    "unsupported_media_type",
    "rate_limited",
    "service_unavailable",
    "server_error",
]
SKEW_MINUTES = int(MAX_CLOCK_SKEW.total_seconds() // 60)

_TIMESTAMP = {
    "type": "string",
    "format": "date-time",
    "description": "RFC 3339 (ISO 8601 with a UTC offset), e.g. 2025-01-31T23:00:00+00:00.",
}
_SIZE = {"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_SIZE}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _error(description: str, codes: list[str], *, headers: dict | None = None) -> dict:
    schema = {
        "allOf": [_ref("Error"), {"type": "object", "properties": {"error": {"enum": codes}}}]
    }
    return _json(schema, description, headers)


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
_ALLOW = {"Allow": {"description": "The methods this path accepts.", "schema": {"type": "string"}}}
_COMMON_ERRORS = {
    "405": _error("Method not allowed.", ["method_not_allowed"], headers=_ALLOW),
    "503": _error(
        "The server cannot reach its database (a restart, a failover): try again after "
        "Retry-After seconds.",
        ["service_unavailable"],
        headers=_RETRY_AFTER,
    ),
}
_CONNECT_BUSY = _error(
    "The server cannot reach its database (a restart, a failover), or too many agents are "
    "connecting at once: each server process checks a few passwords at a time and refuses "
    "the connects that waited too long for their turn, before checking anything (the "
    "`message` says so). Try again after Retry-After seconds (spread at random, so that "
    "refused agents do not come back together); an agent that holds a refresh token can "
    "use /agent/refresh instead, which checks no password.",
    ["service_unavailable"],
    headers=_RETRY_AFTER,
)
_RATE_LIMITED_HEADERS = {
    "Retry-After": {
        "description": "Seconds until these calls are accepted again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
_BODY_ERRORS = {
    "400": _error(
        "The body is not a JSON object of the documented fields; `fields` says which.",
        ["invalid_request"],
    ),
    "411": _error("The body was sent chunked: send it with a Content-Length.", ["length_required"]),
    "413": _error("The body is larger than 64 KiB.", ["payload_too_large"]),
    "415": _error(
        "The body is not declared as JSON: send Content-Type: application/json (UTF-8).",
        ["unsupported_media_type"],
    ),
}
_TOKEN_ERRORS = {
    "401": _error("Missing, unknown or revoked agent token.", ["invalid_token"]),
    "403": _error(
        "The client is disabled or its trial is over.", ["client_disabled", "trial_expired"]
    ),
}

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "SecureCloud agent protocol",
        "version": "1",
        "description": (
            "What a backup agent speaks to the SecureCloud server. An agent connects "
            "with its SecureCloud ID and password (and, the first time, its customer's "
            "registration key), receives a bearer token and a refresh token, then reports "
            "backups and asks for its status with the bearer token. When the bearer token "
            "is refused (401 invalid_token), the agent trades its refresh token for a new "
            "pair at /agent/refresh, which checks no password (a refresh token works once; "
            "keep the new one), and connects with its password only when that fails too. "
            "Agents that never refresh keep working as before. Timestamps are RFC 3339 "
            "(ISO 8601 with a UTC offset); "
            'sizes are bytes. Every error is a JSON object `{"error": CODE}`, with a '
            "`message` for people where there is more to say. Bodies are JSON "
            "(`Content-Type: application/json`, UTF-8) with a Content-Length. Ten failed "
            "connects for one SecureCloud ID from one client address refuse that ID from "
            "that address, and thirty failed connects from one address refuse every "
            "connect from it (429), until 15 minutes after those failures: failures from "
            "elsewhere never lock a client's own machine out. While the server cannot "
            "reach its database, every call answers 503 with Retry-After."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/agent/connect": {
            "post": {
                "operationId": "connect",
                "summary": "Prove the client's credentials and receive an agent token.",
                "description": (
                    "Decided in this order: validate the request, rate limit, "
                    "credentials, client state. A known client with a password needs "
                    "that password (200). A known client without a password yet needs "
                    "its customer's registration key; with auto-authorization on, this "
                    "connect sets the password (200). An unknown SecureCloud ID with the "
                    "registration key of a customer with auto-authorization on creates a "
                    "trial client (201). Every credential failure gets the same 401; its "
                    "message says that a registration key is required for a new or not "
                    "yet connected client whenever none was given."
                ),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("ConnectRequest")}},
                },
                "responses": {
                    "200": _json(_ref("ConnectResponse"), "Connected; a new token."),
                    "201": _json(_ref("ConnectResponse"), "Client created; a new token."),
                    **_BODY_ERRORS,
                    "401": _error(
                        "Wrong password, wrong or missing registration key, or an unknown "
                        "SecureCloud ID without a valid key (one answer for all).",
                        ["invalid_credentials"],
                    ),
                    "403": _error(
                        "Auto-authorization is off for this customer (authorization_required "
                        "for a known client without a password; authorization_pending for a "
                        "new SecureCloud ID with the customer's registration key: the attempt "
                        "waits for an admin's approval, then the same connect succeeds), or "
                        "the client is disabled, or its trial is over.",
                        [
                            "authorization_required",
                            "authorization_pending",
                            "client_disabled",
                            "trial_expired",
                        ],
                    ),
                    **_COMMON_ERRORS,
                    "503": _CONNECT_BUSY,
                    "429": _error(
                        "Too many failed connects for this SecureCloud ID from this address, "
                        "or from this address.",
                        ["rate_limited"],
                        headers=_RATE_LIMITED_HEADERS,
                    ),
                },
            }
        },
        "/agent/refresh": {
            "post": {
                "operationId": "refresh",
                "summary": "Trade a refresh token for a new agent token and refresh token.",
                "description": (
                    "No password check: the refresh token from the last connect or refresh "
                    "buys a new bearer token and a new refresh token, with the client's "
                    "summary (the answer of a connect). A refresh token works once: keep "
                    "the new one. Presenting a used one again revokes every refresh token "
                    "and bearer token of the client (someone else holds a copy): its "
                    "agents connect with the password again. Disabling a client, resetting "
                    "its password or deleting it revokes its refresh tokens too; a client "
                    "keeps its 5 newest. Thirty failed refreshes from one address refuse "
                    "refreshes from it (429) for 15 minutes; they never refuse its connects."
                ),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("RefreshRequest")}},
                },
                "responses": {
                    "200": _json(_ref("ConnectResponse"), "A new token and refresh token."),
                    **_BODY_ERRORS,
                    "401": _error(
                        "The refresh token is unknown, revoked or used already: connect "
                        "with the password.",
                        ["invalid_refresh_token"],
                    ),
                    "403": _error(
                        "The client is disabled or its trial is over.",
                        ["client_disabled", "trial_expired"],
                    ),
                    **_COMMON_ERRORS,
                    "429": _error(
                        "Too many failed refreshes from this address.",
                        ["rate_limited"],
                        headers=_RATE_LIMITED_HEADERS,
                    ),
                },
            }
        },
        "/agent/backups": {
            "post": {
                "operationId": "reportBackup",
                "summary": "Report a finished backup run.",
                "description": (
                    "Stores a backup report, updates the client's last backup and storage "
                    "used, and moves the customer's storage used by the difference. A report "
                    "that takes the customer over its usage space is stored and flagged. "
                    "The client's last backup and last success only move forward: a report "
                    "that finished before the client's last backup is stored in its history "
                    "but changes neither its last backup nor its storage used. Times before "
                    "the client was created, or more than "
                    f"{SKEW_MINUTES} minutes ahead of the server's clock, are refused (400, "
                    "and `fields` says which and why)."
                ),
                "security": [{"agentToken": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("BackupReport")}},
                },
                "responses": {
                    "201": _json(_ref("BackupResponse"), "Report stored."),
                    **_BODY_ERRORS,
                    **_TOKEN_ERRORS,
                    **_COMMON_ERRORS,
                },
            }
        },
        "/agent/status": {
            "get": {
                "operationId": "status",
                "summary": "Heartbeat: the client's plan, state and storage.",
                "security": [{"agentToken": []}],
                "responses": {
                    "200": _json(_ref("ClientSummary"), "The client's summary."),
                    **_TOKEN_ERRORS,
                    **_COMMON_ERRORS,
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "responses": {
                    "200": _json({"type": "object"}, "The OpenAPI document."),
                    **_COMMON_ERRORS,
                },
            }
        },
    },
    "components": {
        "securitySchemes": {
            "agentToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "The token from the last connect (a client keeps its 5 newest).",
            }
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {"type": "string", "enum": ERROR_CODES},
                    "message": {
                        "type": "string",
                        "description": "For people: what went wrong and what to do.",
                    },
                    "fields": {
                        "type": "object",
                        "description": "For invalid_request: a message per bad field.",
                        "additionalProperties": {"type": "string"},
                    },
                },
            },
            "ConnectRequest": {
                "type": "object",
                "required": ["securecloud_id", "password"],
                "properties": {
                    "securecloud_id": {
                        "type": "string",
                        "minLength": 3,
                        "maxLength": 254,
                        "pattern": r"^ *[A-Za-z0-9._\-@+]{3,254} *$",
                        "description": "An email address, or letters, digits and . _ - @ +; "
                        "case-insensitive. Spaces around it are ignored; no other white "
                        "space, and no control or non-ASCII character, is accepted.",
                    },
                    "password": {
                        "type": "string",
                        "maxLength": MAX_PASSWORD_FIELD_LENGTH,
                        "description": "The client's password. A connect that sets it (the "
                        "first connect of an auto-added client) needs 8 to 128 characters, "
                        "no control character, and no white space at either end.",
                    },
                    "registration_key": {
                        "type": "string",
                        "nullable": True,
                        "maxLength": MAX_REGISTRATION_KEY_LENGTH,
                        "description": "The customer's registration key, needed by the "
                        "first connect of a client that has no password yet.",
                    },
                    "hostname": {
                        "type": "string",
                        "nullable": True,
                        "maxLength": MAX_HOSTNAME_LENGTH,
                    },
                    "agent_version": {
                        "type": "string",
                        "nullable": True,
                        "maxLength": MAX_AGENT_VERSION_LENGTH,
                    },
                },
            },
            "ClientSummary": {
                "type": "object",
                "required": ["client", "customer", "reseller", "quota_bytes", "used_bytes"],
                "properties": {
                    "client": {
                        "type": "object",
                        "required": ["securecloud_id", "plan", "status", "trial_ends_at"],
                        "properties": {
                            "securecloud_id": {"type": "string"},
                            "plan": {"type": "string", "enum": ["trial", "paid"]},
                            "status": {
                                "type": "string",
                                "enum": ["pending", "active", "disabled"],
                            },
                            "trial_ends_at": {
                                **_TIMESTAMP,
                                "nullable": True,
                                "description": "Null when paid.",
                            },
                        },
                    },
                    "customer": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}},
                    },
                    "reseller": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}},
                    },
                    "quota_bytes": {
                        **_SIZE,
                        "nullable": True,
                        "description": "The customer's usage space; null when unlimited.",
                    },
                    "used_bytes": {**_SIZE, "description": "The client's storage used."},
                },
            },
            "ConnectResponse": {
                "allOf": [
                    _ref("ClientSummary"),
                    {
                        "type": "object",
                        "required": ["token", "refresh_token"],
                        "properties": {
                            "token": {
                                "type": "string",
                                "description": "Send as `Authorization: Bearer <token>`.",
                            },
                            "refresh_token": {
                                "type": "string",
                                "description": "Keep it (secret, like the password): when "
                                "the bearer token is refused, /agent/refresh trades it for "
                                "a new pair without the password. It works once. Agents "
                                "that do not refresh may ignore it.",
                            },
                        },
                    },
                ]
            },
            "RefreshRequest": {
                "type": "object",
                "required": ["refresh_token"],
                "properties": {
                    "refresh_token": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_REFRESH_TOKEN_LENGTH,
                        "description": "The refresh token of the last connect or refresh.",
                    }
                },
            },
            "BackupReport": {
                "type": "object",
                "required": ["started_at", "finished_at", "status", "used_bytes"],
                "properties": {
                    "started_at": {
                        **_TIMESTAMP,
                        "description": "Not before the client was created (give or take "
                        f"{SKEW_MINUTES} minutes of clock skew).",
                    },
                    "finished_at": {
                        **_TIMESTAMP,
                        "description": "Not before started_at, not before the client was "
                        f"created, and not more than {SKEW_MINUTES} minutes ahead of the "
                        "server's clock.",
                    },
                    "status": {"type": "string", "enum": BACKUP_STATUSES},
                    "used_bytes": {
                        **_SIZE,
                        "maximum": MAX_CLIENT_USED_BYTES,
                        "description": "The client's total stored size after this backup "
                        "(at most a petabyte).",
                    },
                    "files": {**_SIZE, "nullable": True},
                    "message": {
                        "type": "string",
                        "nullable": True,
                        "maxLength": MAX_MESSAGE_LENGTH,
                    },
                },
            },
            "BackupResponse": {
                "type": "object",
                "required": ["quota_bytes", "used_bytes", "customer_used_bytes", "over_quota"],
                "properties": {
                    "quota_bytes": {**_SIZE, "nullable": True},
                    "used_bytes": _SIZE,
                    "customer_used_bytes": {
                        "type": "integer",
                        "format": "int64",
                        "description": "Sum of the storage used by the customer's clients.",
                    },
                    "over_quota": {"type": "boolean"},
                },
            },
        },
    },
}


def openapi_document() -> dict[str, Any]:
    return deepcopy(_DOCUMENT)
