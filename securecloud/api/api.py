"""The admin API (`/api/v1/admin/`): resellers, customers, clients and the audit log of
an API key's subtree, for resellers' PSA and RMM scripts.

Built with django-ninja: the OpenAPI document (`openapi.json`) is generated from the
operations and their schemas, and `docs` serves Swagger UI from the package's own
static files (no CDN). Every operation authenticates its key (`auth.ApiKeyAuth`),
counts it against the key's rate limit, reads through the access helpers, asks the
permission table and writes through the same services as the console.
"""

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from ninja import NinjaAPI, Swagger

from securecloud.api import (
    audit_events,
    clients,
    customers,
    problems,
    resellers,
    usage,
    webhooks,
)
from securecloud.api.auth import ApiKeyAuth, KeyRateThrottle
from securecloud.api.openapi import add_http_conventions

DESCRIPTION = """
The admin API of SecureCloud Console: everything the console does to resellers,
customers and clients, for scripts (PSA and RMM automation).

* **Keys.** An Administrator creates API keys on the console's *API keys* page (or
  with `manage.py create_api_key`). Send one as `Authorization: Bearer <key>`. A key
  acts with its role (Administrator, Technician, Read-only, Billing) in its reseller's
  subtree; an object outside it answers 404, an action its role may not do 403, a
  revoked, expired or unknown key 401.
* **Ids** are the UUIDs that the console's URLs carry.
* **Lists** are paged by cursor: follow `next` (`page_size` up to 500).
* **Errors** are `application/problem+json` (RFC 9457), with `errors` by field for
  invalid input: the same messages as the console's forms.
* **Idempotency.** A POST sent with `Idempotency-Key` and repeated within 24 hours
  answers as the first did and creates nothing twice (`Idempotent-Replayed: true`);
  the same key with another request answers 422.
* **Concurrency.** Objects answer with an `ETag`; an update or delete sent with
  `If-Match` answers 412 when the object has changed since.
* **Rate limit.** Per key; past it, 429 with `Retry-After`.
* **Webhooks.** `/webhooks` adds, changes and removes a reseller's webhooks (the events
  of its whole subtree, signed), shows their recent deliveries and sends a test.
* **Usage.** `/usage` gives a month's figures by customer (those of `export_usage`),
  for the Administrator, Read-only and Billing roles.
"""


class AdminApi(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        return add_http_conventions(super().get_openapi_schema(*args, **kwargs))


api = AdminApi(
    title="SecureCloud Console admin API",
    version="1",
    description=DESCRIPTION,
    auth=ApiKeyAuth(),
    throttle=[KeyRateThrottle()],
    urls_namespace="admin-api",
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
problems.register(api)
api.add_router("/resellers", resellers.router)
api.add_router("/customers", customers.router)
api.add_router("/clients", clients.router)
api.add_router("/audit-events", audit_events.router)
api.add_router("/usage", usage.router)
api.add_router("/webhooks", webhooks.router)


def openapi_document(request: HttpRequest | None = None) -> dict[str, Any]:
    """The generated document, as served (the tests fuzz the API from it): JSON's own
    types, so response codes are strings as in the served file."""
    document = api.get_openapi_schema(path_prefix="/api/v1/admin")
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))  # type: ignore[no-any-return]
