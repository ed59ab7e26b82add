"""The HTTP conventions that the generated OpenAPI document cannot infer from the
operations' signatures, added to it after generation: error answers are
`application/problem+json`; 201 answers carry `Location`, object answers `ETag`, 429
`Retry-After` and 401 `WWW-Authenticate`; POSTs take `Idempotency-Key`, and writes to
an object take `If-Match`. The schemas themselves stay generated from the code."""

from typing import Any

from securecloud.api.problems import CONTENT_TYPE as PROBLEM

WRITE_METHODS = {"post", "patch", "delete"}


def _header(description: str, *, required: bool = False, type_: str = "string") -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": type_}}


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Send the same key to repeat a POST safely within 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "description": "The ETag you read: the change is refused (412) if the object changed.",
    "schema": {"type": "string"},
}


def _is_object_path(path: str) -> bool:
    return "{id}" in path


def add_http_conventions(document: dict[str, Any]) -> dict[str, Any]:
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "patch", "put", "delete"}:
                continue
            parameters = operation.setdefault("parameters", [])
            if method == "post":
                parameters.append(IDEMPOTENCY_KEY)
            if method in WRITE_METHODS and _is_object_path(path):
                parameters.append(IF_MATCH)
            for code, response in operation.get("responses", {}).items():
                status = int(code)
                content = response.get("content", {})
                if status >= 400 and "application/json" in content:
                    content[PROBLEM] = content.pop("application/json")
                headers = response.setdefault("headers", {})
                if status == 201:
                    headers["Location"] = _header("The new object's URL", required=True)
                if status in (200, 201) and (_is_object_path(path) or status == 201):
                    headers["ETag"] = _header("The object's version, for If-Match")
                if status == 429:
                    headers["Retry-After"] = _header(
                        "Seconds to wait", required=True, type_="integer"
                    )
                if status == 401:
                    headers["WWW-Authenticate"] = _header("Bearer", required=True)
                if not headers:
                    response.pop("headers")
    return document
