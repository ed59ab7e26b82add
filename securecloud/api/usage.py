"""`/usage`: what each customer used in a month (the usage page's and export_usage's
figures), a customer's daily storage, a reseller's last months, and a reseller's prices.
The month's figures need the Billing view (Administrator, Read-only, Billing), as the
usage page does; prices are an Administrator's setting."""

import base64
import binascii
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from hierarchy.access import get_customer_for_user, get_reseller_for_user
from hierarchy.models import Node
from securecloud.accounts.permissions import Action, require
from securecloud.api import auth
from securecloud.api.common import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    READ_ERRORS,
    WRITE_ERRORS,
    reseller_or_own,
)
from securecloud.api.schemas import STRICT
from securecloud.usage import days, prices
from securecloud.usage.figures import (
    customer_storage_days,
    monthly_usage,
    prices_of,
    reseller_months,
)

router = Router(tags=["usage"])

BAD_CURSOR = "Invalid cursor: follow the `next` link of the previous page."


class UsageQuery(Schema):
    month: str | None = Field(None, description="YYYY-MM (default: this month)")
    reseller: UUID | None = Field(None, description="Default: the key's reseller")
    page_size: int | None = Field(None, ge=1)
    cursor: str | None = None


class DaysQuery(Schema):
    days: int = Field(90, ge=1, le=100, description="How many days, up to yesterday")


class MonthsQuery(Schema):
    months: int = Field(12, ge=1, le=120, description="How many months, this one last")


class UsageRowOut(Schema):
    """One customer's month, the columns of export_usage."""

    reseller: str
    reseller_id: UUID
    customer: str
    customer_id: UUID
    paid_clients: int
    trial_clients: int
    client_days: int
    avg_gb: Decimal = Field(..., description="GB-month on the daily average (GB = 10^9 B)")
    peak_gb: Decimal
    amount: Decimal | None = Field(None, description="None: the reseller has no prices")
    currency: str


class UsageTotals(Schema):
    paid_clients: int
    trial_clients: int
    client_days: int
    avg_gb: Decimal
    amounts: dict[str, Decimal] = Field(..., description="Amount by currency")


class UsagePage(Schema):
    month: str
    in_progress: bool = Field(..., description="The month is not over yet")
    last_recorded_day: date | None
    totals: UsageTotals = Field(..., description="Of every customer, not just this page")
    results: list[UsageRowOut]
    next: str | None
    previous: str | None


class StorageDay(Schema):
    day: date
    used_bytes: int | None = Field(None, description="None: the day was not recorded")


class MonthFigures(Schema):
    month: str
    avg_gb: Decimal
    paid_clients: int


class PricesIn(Schema):
    model_config = STRICT

    per_gb_month: Decimal = Field(..., description="Per GB-month, on the average")
    per_paid_client: Decimal = Field(..., description="Per paid client per month")
    currency: str = Field(..., max_length=10, description="Three letters, e.g. EUR")


class PricesOut(Schema):
    per_gb_month: Decimal
    per_paid_client: Decimal
    currency: str


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        offset = int(text.removeprefix("o="))
    except (ValueError, UnicodeError, binascii.Error):
        raise HttpError(422, BAD_CURSOR) from None
    if not text.startswith("o=") or offset < 0:
        raise HttpError(422, BAD_CURSOR)
    return offset


def _link(request: HttpRequest, offset: int | None) -> str | None:
    if offset is None:
        return None
    query = request.GET.copy()
    query["cursor"] = base64.urlsafe_b64encode(f"o={offset}".encode()).decode("ascii")
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def _reseller(request: HttpRequest, code: UUID | None) -> Node:
    actor = auth.actor(request)
    reseller = reseller_or_own(actor, code)
    require(actor, Action.VIEW_BILLING, reseller)
    return reseller


@router.get("", response={200: UsagePage, **READ_ERRORS}, summary="A month's usage by customer")
def month_usage(request: HttpRequest, query: Query[UsageQuery]) -> Any:
    reseller = _reseller(request, query.reseller)
    try:
        month = days.parse_month(query.month) if query.month else days.month_of(days.today())
    except ValueError as exc:
        raise HttpError(422, str(exc)) from None
    size = min(query.page_size or PAGE_SIZE, MAX_PAGE_SIZE)
    start = _offset(query.cursor)
    usage = monthly_usage(reseller, month, window=lambda count: range(start, start + size))
    return {
        "month": f"{month:%Y-%m}",
        "in_progress": usage.in_progress,
        "last_recorded_day": usage.last_recorded,
        "totals": {
            "paid_clients": usage.total.paid_clients,
            "trial_clients": usage.total.trial_clients,
            "client_days": usage.total.client_days,
            "avg_gb": usage.total.avg_gb,
            "amounts": usage.total.amounts,
        },
        "results": [
            {
                **{
                    name: getattr(row, name)
                    for name in UsageRowOut.model_fields
                    if hasattr(row, name)
                },
                "reseller_id": row.reseller_code,
                "customer_id": row.customer_code,
            }
            for row in usage.rows()
        ],
        "next": _link(request, start + size if start + size < usage.row_count else None),
        "previous": _link(request, max(0, start - size) if start > 0 else None),
    }


@router.get(
    "/customers/{id}/days",
    response={200: list[StorageDay], **READ_ERRORS},
    summary="A customer's storage on each of the last days",
)
def customer_days(request: HttpRequest, id: UUID, query: Query[DaysQuery]) -> Any:
    actor = auth.actor(request)
    customer = get_customer_for_user(actor, id)
    require(actor, Action.VIEW, customer)
    return [
        {"day": d.day, "used_bytes": d.used_bytes}
        for d in customer_storage_days(customer, query.days)
    ]


@router.get(
    "/resellers/{id}/months",
    response={200: list[MonthFigures], **READ_ERRORS},
    summary="A reseller's storage and paid clients in each of the last months",
)
def reseller_month_figures(request: HttpRequest, id: UUID, query: Query[MonthsQuery]) -> Any:
    reseller = _reseller(request, id)
    return [
        {"month": f"{m.month:%Y-%m}", "avg_gb": m.avg_gb, "paid_clients": m.paid_clients}
        for m in reseller_months(reseller, query.months)
    ]


@router.get(
    "/resellers/{id}/prices",
    response={200: PricesOut, **READ_ERRORS},
    summary="A reseller's prices (404 when it has none)",
)
def get_prices(request: HttpRequest, id: UUID) -> Any:
    reseller = _reseller(request, id)
    current = prices_of(reseller)
    if current is None:
        raise HttpError(404, f"{reseller.name} has no prices: its usage shows no amounts.")
    return {
        "per_gb_month": current.per_gb_month,
        "per_paid_client": current.per_paid_client,
        "currency": current.currency,
    }


@router.put(
    "/resellers/{id}/prices",
    response={200: PricesOut, **WRITE_ERRORS},
    summary="Set a reseller's prices (its customers' amounts then show)",
)
def set_prices(request: HttpRequest, id: UUID, payload: PricesIn) -> Any:
    actor = auth.actor(request)
    reseller = get_reseller_for_user(actor, id)
    require(actor, Action.MANAGE_SETTINGS, reseller)
    price = prices.set_prices(
        reseller, **payload.model_dump(), acting_user=actor, origin=auth.origin(request)
    )
    return {
        "per_gb_month": price.per_gb_month,
        "per_paid_client": price.per_paid_client,
        "currency": price.currency,
    }


@router.delete(
    "/resellers/{id}/prices",
    response={204: None, **WRITE_ERRORS},
    summary="Remove a reseller's prices",
)
def clear_prices(request: HttpRequest, id: UUID) -> Any:
    actor = auth.actor(request)
    reseller = get_reseller_for_user(actor, id)
    require(actor, Action.MANAGE_SETTINGS, reseller)
    prices.clear_prices(reseller, acting_user=actor, origin=auth.origin(request))
    return Status(204, None)
