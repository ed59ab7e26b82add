"""What the admin API's resources share: the documented error answers, the cursor
pagination, answering an object with its ETag, and reading one again under a row lock
for a write (with its If-Match check)."""

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from ninja import Schema, Status
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from ninja.pagination import CursorPagination, paginate

from hierarchy.access import get_reseller_for_user
from hierarchy.models import Node
from securecloud.api.concurrency import check_if_match, etag_of
from securecloud.api.idempotency import idempotent
from securecloud.api.problems import Problem

# What every operation may answer besides its success (all as problem+json).
READ_ERRORS: dict[int, type[Schema]] = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    422: Problem,
    429: Problem,
}
WRITE_ERRORS: dict[int, type[Schema]] = {**READ_ERRORS, 409: Problem, 412: Problem}
CREATE_ERRORS: dict[int, type[Schema]] = {**READ_ERRORS, 409: Problem}
ACTION_ERRORS = WRITE_ERRORS

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

Model = TypeVar("Model", bound=models.Model)


BAD_CURSOR = "Invalid cursor: follow the `next` or `previous` link of a page."


class CheckedCursorPagination(CursorPagination):
    """The library's cursor pages, with a cursor whose position is not a value of the
    ordering field (a forged or mangled one) refused as invalid input, not a 500."""

    def paginate_queryset(
        self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        try:
            return super().paginate_queryset(queryset, pagination, request, **params)
        except (ValueError, TypeError, OverflowError, DjangoValidationError):
            raise HttpError(422, BAD_CURSOR) from None


def cursor_paginated(*ordering: str) -> Callable[[Any], Any]:
    """A listing paged by an opaque cursor (`?cursor=`, `next` and `previous` links,
    `page_size` up to MAX_PAGE_SIZE), in a stable order: no count, no offset scan."""
    return paginate(
        CheckedCursorPagination,
        ordering=ordering,
        page_size=PAGE_SIZE,
        max_page_size=MAX_PAGE_SIZE,
    )


# A POST that runs once per Idempotency-Key (securecloud.api.idempotency).
once_per_idempotency_key: Callable[[Callable[..., Any]], Callable[..., Any]] = decorate_view(
    idempotent
)


def represent(request: HttpRequest, schema: type[Schema], obj: Any) -> Schema:
    """What the API shows of `obj` to this request's key (the same as a list shows)."""
    return schema.from_orm(obj, context={"request": request})


def answer(request: HttpRequest, schema: type[Schema], obj: Any, response: HttpResponse) -> Schema:
    """`obj` as `schema`, with its ETag header."""
    out = represent(request, schema, obj)
    response["ETag"] = etag_of(out.model_dump(mode="json"))
    return out


def reseller_or_own(actor: Any, code: UUID | None) -> Node:
    """The reseller `code` names, through the key's scoping (another tenant's: 404), or
    the key's own reseller when none is named."""
    return get_reseller_for_user(actor, code) if code else actor.key.reseller


def created(request: HttpRequest, schema: type[Schema], obj: Any, response: HttpResponse) -> Any:
    """201 Created with `obj` as `schema`, its ETag, and its Location under the listing."""
    response["Location"] = f"{request.path.rstrip('/')}/{obj.code}"
    return Status(201, answer(request, schema, obj, response))


def lock_for_write(
    request: HttpRequest, scoped: models.QuerySet[Model], obj: Model, schema: type[Schema]
) -> Model:
    """`obj` read again under a row lock through the same scoping (call inside a
    transaction), after checking If-Match against what the API shows of it now."""
    locked = scoped.select_for_update(of=("self",)).get(pk=obj.pk)
    check_if_match(request, etag_of(represent(request, schema, locked).model_dump(mode="json")))
    return locked
