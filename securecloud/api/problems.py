"""Errors of the admin API as `application/problem+json` (RFC 9457): `type`, `title`,
`status`, `detail`, and for invalid input `errors`, the messages by field (the same
messages the console's forms show: they come from the same services).

`register(api)` routes every error the operations raise here: authentication (401,
with `WWW-Authenticate`), the role table (403), the access helpers (404), the services'
validation (422), and the library's own (invalid parameters, throttling).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://securecloud.example/problems/"

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
    500: "Server error",
    503: "Service unavailable",
}

# The problem types, by slug: each names one kind of failure a script can act on.
SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    422: "invalid-input",
    428: "precondition-required",
    429: "rate-limited",
    500: "server-error",
    503: "service-unavailable",
}


class Problem(Schema):
    """An RFC 9457 problem; `errors` lists the messages by field for invalid input."""

    type: str
    title: str
    status: int
    detail: str
    errors: dict[str, list[str]] | None = None


def problem(
    status: int,
    detail: str,
    *,
    errors: Mapping[str, Iterable[str]] | None = None,
    slug: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or SLUGS.get(status, "error")),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = {field: list(messages) for field, messages in errors.items()}
    response = JsonResponse(body, status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# Service field names that the API calls otherwise.
FIELD_NAMES = {"auto_add_clients": "auto_authorization", "__all__": "detail"}


def field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as {API field: [messages]} ("detail" for those that
    concern no one field)."""
    if hasattr(exc, "error_dict"):
        return {
            FIELD_NAMES.get(field, field): messages for field, messages in exc.message_dict.items()
        }
    return {}


# What a service refuses because of the object's state rather than the input: 409.
CONFLICT_CODES = {"has_children", "has_clients", "already_queued", "already_sent", "paid"}


def invalid(exc: DjangoValidationError) -> HttpResponse:
    if getattr(exc, "code", None) in CONFLICT_CODES:
        return problem(409, " ".join(exc.messages))
    errors = field_errors(exc)
    if errors:
        detail = " ".join(message for messages in errors.values() for message in messages)
        return problem(422, detail, errors=errors)
    return problem(422, " ".join(exc.messages))


def _location(loc: Iterable[Any]) -> str:
    """A field's name from the library's error location (["body", "payload", "name"]
    → "name", ["query", "cursor"] → "cursor")."""
    parts = [str(part) for part in loc]
    while parts and parts[0] in {"body", "query", "path", "header", "payload"}:
        parts.pop(0)
    if parts and parts[0] in {"payload", "filters", "data"}:
        parts.pop(0)
    return ".".join(parts) or "body"


def _request_invalid(request: HttpRequest, exc: Any) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = error.get("loc", ())
        message = str(error.get("msg", "Invalid value."))
        if not loc:  # the library's own shape: {"cursor": "Invalid Cursor"}
            for field, text in error.items():
                errors.setdefault(str(field), []).append(str(text))
            continue
        errors.setdefault(_location(loc), []).append(message)
    detail = "The request is not valid: " + "; ".join(
        f"{field}: {' '.join(messages)}" for field, messages in errors.items()
    )
    return problem(422, detail, errors=errors)


def _http_error(request: HttpRequest, exc: Any) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        return problem(
            401,
            "Send a valid API key: Authorization: Bearer <key>. "
            "A revoked, expired or unknown key is refused.",
            headers={"WWW-Authenticate": 'Bearer realm="admin-api"'},
        )
    return problem(exc.status_code, exc.message)


def _service_invalid(request: HttpRequest, exc: Any) -> HttpResponse:
    return invalid(exc)


def register(api: NinjaAPI) -> None:
    api.add_exception_handler(RequestValidationError, _request_invalid)
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(
        Http404,
        lambda request, exc: problem(404, "No such object (or not one this key may see)."),
    )
    api.add_exception_handler(
        PermissionDenied,
        lambda request, exc: problem(403, str(exc) or "This key's role does not allow this."),
    )
    api.add_exception_handler(DjangoValidationError, _service_invalid)
