"""Console actions on a customer's emails: resend the welcome email, retry a failed
email, and preview the backup report as the customer will see it.

Scoped like every console view: the customer comes from get_customer_for_user (404 for
another reseller's customer) and a delivery only from that customer's own.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from hierarchy.access import get_customer_for_user
from securecloud.accounts.permissions import Action, require
from securecloud.branding.brands import brand_for
from securecloud.console.shell import render_console
from securecloud.http import origin_of
from securecloud.mail import reports
from securecloud.mail.emails import queue_welcome_email, retry_email
from securecloud.mail.models import EmailDelivery
from securecloud.site import site_url


def _flash_outcome(request, delivery: EmailDelivery, what: str) -> None:
    if delivery.status == EmailDelivery.Status.SENT:
        messages.success(request, f"{what} sent to {delivery.recipient}.")
    elif delivery.status == EmailDelivery.Status.QUEUED:
        messages.info(request, f"{what} to {delivery.recipient} is queued.")
    else:
        messages.error(request, f"{what} to {delivery.recipient} failed: {delivery.error}")


@login_required
@require_POST
def welcome_resend(request, code):
    customer = get_customer_for_user(request.user, code)
    require(request.user, Action.SEND_EMAILS, customer)
    try:
        delivery = queue_welcome_email(
            customer,
            acting_user=request.user,
            origin=origin_of(request),
            site_url=site_url(request),
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        _flash_outcome(request, delivery, "Welcome email")
    return redirect("customer-pane", code=customer.code)


@login_required
@require_POST
def email_retry(request, code, delivery_code):
    customer = get_customer_for_user(request.user, code)
    require(request.user, Action.SEND_EMAILS, customer)
    delivery = get_object_or_404(
        EmailDelivery.objects.filter(customer=customer), code=delivery_code
    )
    try:
        delivery = retry_email(
            delivery,
            acting_user=request.user,
            origin=origin_of(request),
            site_url=site_url(request),
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        _flash_outcome(request, delivery, delivery.get_kind_display())
    return redirect("customer-pane", code=customer.code)


@login_required
@require_safe
def report_preview(request, code):
    customer = get_customer_for_user(request.user, code)
    period = request.GET.get("period")
    if period not in reports.PERIODS:
        period = reports.DAILY
    report = reports.customer_report(customer, period, timezone.now())
    address = site_url(request)
    brand = brand_for(customer)  # the brand the customer sees, read once for both
    message = reports.report_message(
        report, customer.contact_email or "(no contact email)", site_url=address, brand=brand
    )
    context = {
        **reports.report_context(report, site_url=address, brand=brand),
        "email_brand": brand,
        "period": period,
        "periods": [(key, reports.PERIOD_LABELS[key]) for key in reports.PERIODS],
        "message": message,
        "text_body": message.body,
    }
    # Not `brand`: the page around the email keeps the admin's own (the context processor's).
    del context["brand"]
    # In the console's right pane, under the tree, with the breadcrumb down to the customer.
    return render_console(
        request,
        "hierarchy/report_preview.html",
        node=customer,
        page_crumb="Report preview",
        **context,
    )
