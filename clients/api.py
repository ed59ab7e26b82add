"""The agent protocol's HTTP layer: JSON in, JSON out, never the session.

Each view checks the method (405), the body's envelope (411 chunked, 413 too large,
415 not declared as JSON), parses JSON (400) and hands the values to the agent modules
(clients.agent_connect, clients.agent_refresh, clients.agent_services), whose AgentError becomes
`{"error": code}`. Failures nobody expected (a database that went away, a bug) answer
JSON too (securecloud.api_errors).
"""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from csp.decorators import csp_exempt
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from clients import agent_connect, agent_refresh, agent_services
from clients.agent_requests import AgentError, invalid_request
from clients.openapi import openapi_document
from securecloud.http import client_ip

MAX_BODY_BYTES = 64 * 1024
UTF_8 = ("utf-8", "utf8")


def error_response(exc: AgentError) -> JsonResponse:
    response = JsonResponse(exc.body(), status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


def agent_endpoint(*methods: str) -> Callable:
    """JSON errors for every refusal: 405 with Allow, 413, and AgentError from the rules."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                response = error_response(AgentError(405, "method_not_allowed"))
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except AgentError as exc:
                return error_response(exc)

        # Agents have no session and no CSRF cookie; they prove themselves per request.
        # Their answers are JSON for a program, not pages: no Content-Security-Policy to
        # build for each of the hundreds per second.
        return csrf_exempt(csp_exempt()(wrapper))

    return decorator


def read_json(request: HttpRequest) -> Any:
    """The request body as JSON: 411 when sent chunked (without a Content-Length, the
    server would read it as empty), 413 over 64 KiB, 415 unless declared as
    application/json (UTF-8), 400 when it is not JSON."""
    if request.META.get("HTTP_TRANSFER_ENCODING"):
        raise AgentError(
            411, "length_required", message="Send the body with a Content-Length, not chunked."
        )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise AgentError(413, "payload_too_large")
    try:
        body = request.body
    except RequestDataTooBig:
        raise AgentError(413, "payload_too_large") from None
    if len(body) > MAX_BODY_BYTES:
        raise AgentError(413, "payload_too_large")
    charset = (request.encoding or "utf-8").lower().replace("_", "-")
    is_json = (request.content_type or "").lower() == "application/json" and charset in UTF_8
    # No body and no type: the 400 below says what to send.
    if not is_json and (body or request.META.get("CONTENT_TYPE")):
        raise AgentError(
            415,
            "unsupported_media_type",
            message="Send the body as JSON, with Content-Type: application/json.",
        )
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise invalid_request({"body": "Send a JSON object (UTF-8)."}) from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


@agent_endpoint("POST")
def connect(request: HttpRequest) -> JsonResponse:
    data = read_json(request)
    result = agent_connect.connect(data, ip=client_ip(request))
    return JsonResponse(result.body, status=201 if result.created else 200)


@agent_endpoint("POST")
def refresh(request: HttpRequest) -> JsonResponse:
    data = read_json(request)
    return JsonResponse(agent_refresh.refresh(data, ip=client_ip(request)))


@agent_endpoint("POST")
def backups(request: HttpRequest) -> JsonResponse:
    try:
        data = read_json(request)
    except AgentError as exc:
        if exc.status != 400:
            raise
        data = exc  # the token is checked first; then this 400 is the answer
    body = agent_services.record_backup(request.headers.get("Authorization", ""), data)
    return JsonResponse(body, status=201)


@agent_endpoint("GET")
def status(request: HttpRequest) -> JsonResponse:
    return JsonResponse(agent_services.status(request.headers.get("Authorization", "")))


@agent_endpoint("GET")
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document())


@csrf_exempt  # agents have no CSRF cookie: a mistyped path must still answer JSON
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other path under /api/v1/: JSON like every other answer of the API."""
    return JsonResponse({"error": "not_found"}, status=404)
