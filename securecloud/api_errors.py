"""JSON answers for the agent API when something fails unexpectedly.

Agents read JSON, never an HTML error page: under /api/, any error page answers JSON
(a 404 outside /api/v1/, a 400 for a Host not allowed), a database that cannot be
reached (OperationalError, InterfaceError: a restart, a failover, a dropped
connection) answers 503 with Retry-After, and any other unexpected error a JSON 500.
Agents and load balancers (/healthz) never use the console's session either: a session
cookie they send is not read, so no middleware queries the database for it before the
view runs.
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from securecloud.api.problems import TITLES, problem

logger = logging.getLogger("django.request")

RETRY_AFTER_SECONDS = 10
API_PREFIX = "/api/"
ADMIN_API_PREFIX = "/api/v1/admin/"
JSON_TYPES = ("application/json", "application/problem+json")
SESSIONLESS_PREFIXES = (API_PREFIX, "/healthz")


def database_unavailable() -> JsonResponse:
    response = JsonResponse(
        {
            "error": "service_unavailable",
            "message": "The server cannot reach its database; try again shortly.",
        },
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error() -> JsonResponse:
    return JsonResponse(
        {"error": "server_error", "message": "The server failed to answer; try again later."},
        status=500,
    )


# What an HTML error page from outside the API's views says, in the API's words.
_ERROR_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def error_as_json(status: int) -> JsonResponse:
    if status >= 500:
        return server_error()
    return JsonResponse({"error": _ERROR_CODES.get(status, "invalid_request")}, status=status)


def admin_api_error(status: int) -> HttpResponse:
    """The admin API answers problems (RFC 9457), whatever failed."""
    if status == 503:
        detail = "The server cannot reach its database; try again shortly."
        return problem(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if status >= 500:
        return problem(status, "The server failed to answer; try again later.")
    return problem(status, TITLES.get(status, "The request cannot be answered."))


class ApiErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(SESSIONLESS_PREFIXES):
            request.COOKIES.pop(settings.SESSION_COOKIE_NAME, None)
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith(JSON_TYPES)
        ):
            # An error page from below the views (a middleware failed, a Host that is
            # not allowed, a path outside /api/v1/): JSON all the same.
            if request.path.startswith(ADMIN_API_PREFIX):
                return admin_api_error(response.status_code)
            return error_as_json(response.status_code)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        unavailable = isinstance(exception, (OperationalError, InterfaceError))
        if request.path.startswith(ADMIN_API_PREFIX):
            response = admin_api_error(503 if unavailable else 500)
        else:
            response = database_unavailable() if unavailable else server_error()
        logger.error(
            "%s: %s",
            "Database unavailable" if unavailable else "Internal Server Error",
            request.path,
            exc_info=(type(exception), exception, exception.__traceback__),
            extra={"status_code": response.status_code, "request": request},
        )
        response._has_been_logged = True  # type: ignore[attr-defined]  # logged here, with the traceback
        return response
