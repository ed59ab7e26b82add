"""Console pages of a customer: its pane, the Add and Edit forms, the welcome email step,
the key icon, a new registration key, and deletion."""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clients.models import Client
from clients.pending import pending_requests_of
from hierarchy import services
from hierarchy.access import get_customer_for_user, get_reseller_for_user
from hierarchy.models import Node
from securecloud.accounts.permissions import Action, require
from securecloud.console.forms import CustomerForm
from securecloud.console.shell import paginate, render_console
from securecloud.events.alert_settings import missed_after_hours
from securecloud.http import form_data, origin_of
from securecloud.mail.emails import customer_email_context, queue_welcome_email
from securecloud.mail.models import EmailDelivery
from securecloud.site import site_url


@login_required
@require_http_methods(["GET", "POST"])
def customer_add(request: HttpRequest, code: UUID) -> HttpResponse:
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.MANAGE_CUSTOMERS, reseller)
    form = CustomerForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.create_customer(
                reseller, acting_user=request.user, origin=origin_of(request), **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Customer {customer.name} added.")
            return redirect("customer-welcome", code=customer.code)
    return render_console(
        request,
        "hierarchy/customer_form.html",
        node=reseller,
        form=form,
        title="Add New Customer",
    )


# --- The customer pane ---------------------------------------------------------------


@login_required
@require_safe
def customer_pane(request: HttpRequest, code: UUID) -> HttpResponse:
    customer = get_customer_for_user(request.user, code)
    # The services keep client_count (the Clients column of the reseller pane): no COUNT.
    page = paginate(
        request,
        Client.objects.filter(customer=customer).order_by("securecloud_id"),
        count=customer.client_count,
    )
    return render_console(
        request,
        "hierarchy/customer.html",
        node=customer,
        customer=customer,
        page=page,
        # Agents wait for approval only while auto-authorization is off (turned on, their
        # next connect adds them): no query for the others.
        pending_requests=[] if customer.auto_add_clients else list(pending_requests_of(customer)),
        **customer_email_context(customer),
    )


def _queue_welcome_email(request: HttpRequest, customer: Node) -> None:
    """Queue the welcome email and say what became of it; the customer stays created."""
    try:
        delivery = queue_welcome_email(
            customer,
            acting_user=request.user,
            origin=origin_of(request),
            first_only=True,
            site_url=site_url(request),
        )
    except ValidationError as exc:
        messages.warning(request, exc.messages[0])
        return
    delivery.refresh_from_db()  # the immediate backend has already run the task
    if delivery.status == delivery.Status.SENT:
        messages.success(request, f"Welcome email sent to {delivery.recipient}.")
    elif delivery.status == delivery.Status.FAILED:
        messages.error(
            request, f"The welcome email to {delivery.recipient} failed: {delivery.error}"
        )
    else:
        messages.success(request, f"Welcome email to {delivery.recipient} queued.")


@login_required
@require_http_methods(["GET", "POST"])
def customer_welcome(request: HttpRequest, code: UUID) -> HttpResponse:
    """Seed step 4: Send or Don't Send the automated email to the new customer."""
    customer = get_customer_for_user(request.user, code)
    require(request.user, Action.SEND_EMAILS, customer)
    if request.method == "POST":
        if request.POST.get("action") == "send":
            _queue_welcome_email(request, customer)
        else:
            messages.info(request, "No welcome email sent.")
        return redirect("customer-pane", code=customer.code)
    # Back on this page after sending: say so rather than offer Send again.
    welcome_sent = (
        customer.email_deliveries.filter(
            kind=EmailDelivery.Kind.WELCOME, status=EmailDelivery.Status.SENT
        )
        .order_by("-sent_at")
        .first()
    )
    return render_console(
        request,
        "hierarchy/welcome.html",
        node=customer,
        customer=customer,
        welcome_sent=welcome_sent,
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, code: UUID) -> HttpResponse:
    customer = get_customer_for_user(request.user, code)
    require(request.user, Action.MANAGE_CUSTOMERS, customer)
    form = CustomerForm(form_data(request), customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_customer(
                customer, acting_user=request.user, origin=origin_of(request), **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Customer {customer.name} saved.")
            return redirect("customer-pane", code=customer.code)
    return render_console(
        request,
        "hierarchy/customer_form.html",
        node=customer,
        customer=customer,
        form=form,
        title=f"Edit {customer.name}",
        missed_after_hours=missed_after_hours(customer),
    )


@login_required
@require_POST
def customer_auto_authorization(request: HttpRequest, code: UUID) -> HttpResponse:
    """The key icon: toggle auto-authorization at once, then say what changed."""
    customer = get_customer_for_user(request.user, code)
    require(request.user, Action.MANAGE_CUSTOMERS, customer)
    # The button posts the state it offers, so a double click or two admins at once
    # cannot flip it back; without the field (an old page), it toggles.
    wanted = request.POST.get("enabled")
    enabled = wanted == "1" if wanted in {"0", "1"} else not customer.auto_add_clients
    services.set_auto_authorization(
        customer, enabled, acting_user=request.user, origin=origin_of(request)
    )
    if enabled:
        messages.success(
            request,
            f"Auto-authorization is now on for {customer.name}: new clients are added "
            "when they connect with the registration key.",
        )
    else:
        messages.success(
            request,
            f"Auto-authorization is now off for {customer.name}: new clients need a password.",
        )
    return redirect("customer-pane", code=customer.code)


@login_required
@require_POST
def customer_regenerate_key(request: HttpRequest, code: UUID) -> HttpResponse:
    customer = get_customer_for_user(request.user, code)
    require(request.user, Action.MANAGE_CUSTOMERS, customer)
    services.regenerate_registration_key(
        customer, acting_user=request.user, origin=origin_of(request)
    )
    messages.success(request, "New registration key made; the old one no longer works.")
    return redirect("customer-pane", code=customer.code)


@login_required
@require_http_methods(["GET", "POST"])
def customer_delete(request: HttpRequest, code: UUID) -> HttpResponse:
    customer = get_customer_for_user(request.user, code)
    require(request.user, Action.DELETE, customer)
    has_clients = Client.objects.filter(customer=customer).exists()
    if request.method == "POST":
        try:
            services.delete_customer(customer, acting_user=request.user, origin=origin_of(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("customer-pane", code=customer.code)
        messages.success(request, f"Customer {customer.name} deleted.")
        return redirect("reseller-pane", code=customer.parent.code)
    return render_console(
        request,
        "hierarchy/customer_delete.html",
        node=customer,
        customer=customer,
        has_clients=has_clients,
    )
