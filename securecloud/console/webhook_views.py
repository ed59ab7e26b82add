"""The Webhooks page of a reseller (Reseller Admin → Webhooks; Administrators: the
reseller's settings) and an admin's choice of email alerts (from its account page).
Thin views over securecloud.events.webhooks and securecloud.events.alerts."""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hierarchy.access import get_customer_for_user, get_reseller_for_user
from hierarchy.models import Node, reseller_of
from securecloud.accounts.permissions import Action, require
from securecloud.console.shell import render_console
from securecloud.console.webhook_forms import AlertsForm, WebhookForm
from securecloud.events import alert_settings, alerts, webhooks
from securecloud.events.access import get_webhook_for_user
from securecloud.events.models import MAX_MISSED_AFTER_HOURS, Webhook
from securecloud.http import form_data, origin_of


@login_required
@require_safe
def webhooks_home(request: HttpRequest) -> HttpResponse:
    """The menu's entry: the signed-in admin's own reseller's Webhooks page."""
    reseller = reseller_of(request.user)  # type: ignore[no-untyped-call]
    if reseller is None or not reseller.is_reseller:
        raise Http404("No reseller of yours.")
    return redirect("webhooks", code=reseller.code)


def _page(request: HttpRequest, reseller: Node, form: WebhookForm) -> HttpResponse:
    hooks = [(hook, webhooks.recent_deliveries(hook)) for hook in webhooks.list_webhooks(reseller)]
    return render_console(
        request,
        "events/webhooks.html",
        node=reseller,
        reseller=reseller,
        hooks=hooks,
        form=form,
        trial_end_emails=alert_settings.emails_customers_before_trial_end(reseller),
    )


@login_required
@require_http_methods(["GET", "POST"])
def webhooks_page(request: HttpRequest, code: UUID) -> HttpResponse:
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.MANAGE_SETTINGS, reseller)
    form = WebhookForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            hook = webhooks.create_webhook(
                reseller,
                url=form.cleaned_data["url"],
                secret=form.cleaned_data["secret"],
                event_types=form.cleaned_data["event_types"],
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Webhook {hook.url} added.")
            return redirect("webhooks", code=reseller.code)
    return _page(request, reseller, form)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, code: UUID) -> HttpResponse:
    hook = get_webhook_for_user(request.user, code)
    require(request.user, Action.MANAGE_SETTINGS, hook.reseller)
    initial = {"url": hook.url, "event_types": hook.event_types, "enabled": hook.enabled}
    form = WebhookForm(form_data(request), initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            webhooks.update_webhook(
                hook,
                url=form.cleaned_data["url"],
                secret=form.cleaned_data["secret"] or None,
                event_types=form.cleaned_data["event_types"],
                enabled=form.cleaned_data["enabled"],
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Webhook {hook.url} saved.")
            return redirect("webhooks", code=hook.reseller.code)
    return render_console(
        request, "events/webhook_edit.html", node=hook.reseller, hook=hook, form=form
    )


def _back(hook: Webhook) -> HttpResponse:
    return redirect("webhooks", code=hook.reseller.code)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, code: UUID) -> HttpResponse:
    hook = get_webhook_for_user(request.user, code)
    require(request.user, Action.MANAGE_SETTINGS, hook.reseller)
    webhooks.delete_webhook(hook, acting_user=request.user, origin=origin_of(request))
    messages.success(request, f"Webhook {hook.url} deleted.")
    return _back(hook)


@login_required
@require_POST
def webhook_test(request: HttpRequest, code: UUID) -> HttpResponse:
    hook = get_webhook_for_user(request.user, code)
    require(request.user, Action.MANAGE_SETTINGS, hook.reseller)
    delivery = webhooks.send_test(hook, acting_user=request.user, origin=origin_of(request))
    if delivery.status_code is not None and 200 <= delivery.status_code < 300:
        messages.success(request, f"Test delivered: {delivery.status_code}.")
    else:
        answer = delivery.status_code or delivery.error or "no answer"
        messages.error(request, f"Test not delivered: {answer}.")
    return _back(hook)


@login_required
@require_http_methods(["GET", "POST"])
def account_alerts(request: HttpRequest) -> HttpResponse:
    """Which events email the signed-in admin (one email per run of run_alerts)."""
    form = AlertsForm(
        form_data(request), initial={"event_types": alerts.alert_types_of(request.user)}
    )
    if request.method == "POST" and form.is_valid():
        alerts.set_alert_types(
            request.user,
            form.cleaned_data["event_types"],
            acting_user=request.user,
            origin=origin_of(request),
        )
        messages.success(request, "Email alerts saved.")
        return redirect("account")
    return render(request, "account/alerts.html", {"form": form})


@login_required
@require_POST
def reseller_trial_emails(request: HttpRequest, code: UUID) -> HttpResponse:
    """The reseller's choice to email customers' contacts before their trials end."""
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.MANAGE_SETTINGS, reseller)
    enabled = request.POST.get("enabled") == "1"
    alert_settings.set_trial_end_emails(
        reseller, enabled, acting_user=request.user, origin=origin_of(request)
    )
    messages.success(
        request,
        "Customers' contacts are emailed before a trial ends."
        if enabled
        else "Customers' contacts are not emailed before a trial ends.",
    )
    return redirect("webhooks", code=reseller.code)


@login_required
@require_POST
def customer_alert_window(request: HttpRequest, code: UUID) -> HttpResponse:
    """A customer's missed-backup alert window (hours)."""
    customer = get_customer_for_user(request.user, code)
    require(request.user, Action.MANAGE_CUSTOMERS, customer)
    try:
        hours = int(request.POST.get("hours", ""))
        alert_settings.set_missed_after_hours(
            customer, hours, acting_user=request.user, origin=origin_of(request)
        )
    except (ValueError, ValidationError):
        messages.error(request, f"Enter a number of hours from 1 to {MAX_MISSED_AFTER_HOURS}.")
        return redirect("customer-edit", code=customer.code)
    messages.success(
        request, f"Missed-backup alerts of {customer.name} after {hours} hours without success."
    )
    return redirect("customer-pane", code=customer.code)
