"""The usage page: a reseller's customers' usage of a month, with an invoice preview
when prices are set, its CSV, and the reseller's prices (Administrators)."""

from dataclasses import dataclass
from datetime import date
from typing import cast
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST, require_safe

from hierarchy.access import get_customer_for_user, get_reseller_for_user
from hierarchy.models import Node, reseller_of
from securecloud.accounts.permissions import Action, may, require
from securecloud.console.shell import render_console
from securecloud.http import origin_of
from securecloud.usage import days, prices
from securecloud.usage.charts import reseller_figures, storage_chart
from securecloud.usage.export import csv_lines
from securecloud.usage.figures import (
    MonthlyUsage,
    UsageGroup,
    UsageRow,
    monthly_usage,
    prices_of,
)


def _month(request: HttpRequest) -> tuple[date, str]:
    """The month asked for (this month when none), and an error text for a bad one."""
    text = request.GET.get("month", "").strip()
    current = days.month_of(days.today())
    if not text:
        return current, ""
    try:
        return days.parse_month(text), ""
    except ValueError as exc:
        return current, str(exc)


@login_required
@require_safe
def usage_home(request: HttpRequest) -> HttpResponse:
    """The Reseller Admin menu's Usage: the user's own reseller's page."""
    require(request.user, Action.VIEW_BILLING)
    reseller = reseller_of(request.user)  # type: ignore[no-untyped-call]
    if reseller is None or not reseller.is_reseller:
        return redirect("console-home")  # a superuser: pick a reseller first
    return redirect("reseller-usage", code=reseller.code)


# Customers per page of the usage table (the CSV holds them all; totals cover them all).
USAGE_PAGE_SIZE = 50


@dataclass
class Section:
    """A group's rows on one page of the table: "continued" when it began on a page
    before, with its subtotal when it ends on this one."""

    group: UsageGroup
    rows: list[UsageRow]
    continued: bool
    ends: bool


class PageWindow:
    """The page asked for, once the month's number of rows is known: monthly_usage
    builds that page's rows only."""

    def __init__(self, number: str | None) -> None:
        self.number = number
        self.page: Page[int] = Paginator(range(0), USAGE_PAGE_SIZE).get_page(number)

    def __call__(self, count: int) -> range:
        self.page = Paginator(range(count), USAGE_PAGE_SIZE).get_page(self.number)
        return cast(range, self.page.object_list)

    def sections(self, usage: MonthlyUsage | None) -> list[Section]:
        if usage is None:
            return []
        shown = cast(range, self.page.object_list)
        return [
            Section(group, group.rows, group.start < shown.start, group.stop <= shown.stop)
            for group in usage.groups
            if group.rows
        ]


def _page(
    request: HttpRequest,
    reseller: Node,
    *,
    price_form: dict[str, str] | None = None,
    price_errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    month, error = _month(request)
    window = PageWindow(request.GET.get("page"))
    usage = monthly_usage(reseller, month, window=window) if not error else None
    own = prices_of(reseller)
    errors = dict(price_errors or {})
    if price_form is None:
        price_form = {
            "per_gb_month": f"{own.per_gb_month.normalize():f}" if own else "",
            "per_paid_client": f"{own.per_paid_client.normalize():f}" if own else "",
            "currency": own.currency if own else "",
        }
    return render_console(
        request,
        "usage/usage.html",
        node=reseller,
        reseller=reseller,
        usage=usage,
        page=window.page,
        sections=window.sections(usage),
        month_value=f"{month:%Y-%m}",
        month_error=error,
        prices=own,
        price_form=price_form,
        price_errors=errors,
        price_general_errors=errors.pop("__all__", []),
        may_set_prices=may(request.user, Action.MANAGE_SETTINGS, reseller),
        page_crumb="Usage",
        status=400 if error else status,
    )


@login_required
@require_safe
def reseller_usage(request: HttpRequest, code: UUID) -> HttpResponse:
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.VIEW_BILLING, reseller)
    return _page(request, reseller)


@login_required
@require_safe
def reseller_usage_csv(request: HttpRequest, code: UUID) -> HttpResponse | StreamingHttpResponse:
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.VIEW_BILLING, reseller)
    month, error = _month(request)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    usage = monthly_usage(reseller, month)
    response = StreamingHttpResponse(
        (line.encode() for line in csv_lines(usage.rows())), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="usage-{month:%Y-%m}.csv"'
    return response


@login_required
@require_safe
def reseller_usage_figures(request: HttpRequest, code: UUID) -> HttpResponse:
    """The subtree's storage and paid clients over the last 12 months (every role that
    sees the reseller): the reseller pane loads this section after it has shown, and
    links here without JavaScript."""
    reseller = get_reseller_for_user(request.user, code)
    return render_console(
        request,
        "usage/reseller_figures.html",
        node=reseller,
        reseller=reseller,
        figures=reseller_figures(reseller),
        page_crumb="Storage and paid clients",
    )


@login_required
@require_safe
def customer_storage(request: HttpRequest, code: UUID) -> HttpResponse:
    """The customer's storage over the last 90 days against its usage space (every role
    that sees the customer, its customer users too): loaded into the customer pane."""
    customer = get_customer_for_user(request.user, code)
    return render_console(
        request,
        "usage/customer_storage.html",
        node=customer,
        customer=customer,
        chart=storage_chart(customer),
        page_crumb="Storage",
    )


@login_required
@require_POST
def reseller_prices(request: HttpRequest, code: UUID) -> HttpResponse:
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.MANAGE_SETTINGS, reseller)
    data = {
        name: request.POST.get(name, "").strip()
        for name in ("per_gb_month", "per_paid_client", "currency")
    }
    if "clear" in request.POST:
        prices.clear_prices(reseller, acting_user=request.user, origin=origin_of(request))
        messages.success(request, f"Prices of {reseller.name} removed.")
        return redirect("reseller-usage", code=reseller.code)
    try:
        prices.set_prices(reseller, **data, acting_user=request.user, origin=origin_of(request))
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return _page(request, reseller, price_form=data, price_errors=errors, status=400)
    messages.success(request, f"Prices of {reseller.name} saved.")
    return redirect("reseller-usage", code=reseller.code)
