"""Console pages of client accounts: Add New Client, the client pane and its actions.

Thin views: access helper, form, one service call, then render or redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clients import services
from clients.access import get_client_for_user
from hierarchy.access import get_customer_for_user
from hierarchy.models import Node
from securecloud.accounts.permissions import Action, require
from securecloud.branding.brands import brand_for
from securecloud.console.client_forms import (
    DeleteClientForm,
    EditClientForm,
    ExtendTrialForm,
    MoveClientForm,
    NewClientForm,
    ResetPasswordForm,
)
from securecloud.console.shell import render_console
from securecloud.http import form_data, origin_of, search_term

MOVE_CHOICES_LIMIT = 50


def _client_page(request, client, template: str, *, status: int = 200, **context):
    return render_console(
        request,
        template,
        node=client.customer,
        client=client,
        status=status,
        customer=client.customer,
        # The installer card speaks the brand the client's customer sees (a superuser's
        # own brand is the default).
        installer_brand=brand_for(client.customer),
        **context,
    )


@login_required
@require_http_methods(["GET", "POST"])
def client_add(request, code):
    customer = get_customer_for_user(request.user, code)
    require(request.user, Action.ADD_CLIENTS, customer)
    form = NewClientForm(form_data(request), customer=customer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client = services.create_client(
                customer,
                securecloud_id=data["securecloud_id"],
                password=data["password"] or None,
                name=data["name"],
                email=data["email"],
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Client {client.securecloud_id} added as Trial.")
            return redirect("client-pane", code=client.code)
    return render_console(
        request,
        "clients/client_form.html",
        node=customer,
        customer=customer,
        form=form,
    )


@login_required
@require_safe
def client_pane(request, code):
    client = get_client_for_user(request.user, code)
    return _client_page(
        request,
        client,
        "clients/client.html",
        extend_form=ExtendTrialForm(),
        password_form=ResetPasswordForm(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def client_edit(request, code):
    client = get_client_for_user(request.user, code)
    require(request.user, Action.MANAGE_CLIENTS, client)
    form = EditClientForm(form_data(request), initial={"name": client.name, "email": client.email})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_client(
                client, **form.cleaned_data, acting_user=request.user, origin=origin_of(request)
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Client {client.securecloud_id} saved.")
            return redirect("client-pane", code=client.code)
    return _client_page(
        request,
        client,
        "clients/client_edit.html",
        form=form,
    )


@login_required
@require_http_methods(["GET", "POST"])
def client_switch_to_paid(request, code):
    """Seed step 12: Trial → Paid, after a confirmation (the GET page without JS).

    Reached from the client's pane, or from the yellow Trial badge in its customer's
    list of clients (back=customer), where it then returns.
    """
    client = get_client_for_user(request.user, code)
    require(request.user, Action.MANAGE_CLIENTS, client)
    back_to_customer = request.GET.get("back") == "customer"
    # The page of the customer's list it came from: digits only, never a URL.
    list_page = request.GET.get("page", "")
    list_page = list_page if list_page.isdigit() and len(list_page) <= 6 else ""
    customer_url = reverse("customer-pane", args=[client.customer.code])
    if list_page:
        customer_url += f"?page={list_page}"
    if request.method == "POST":
        if client.is_paid:
            messages.info(request, f"{client.securecloud_id} is already Paid.")
        else:
            services.switch_to_paid(client, acting_user=request.user, origin=origin_of(request))
            messages.success(request, f"{client.securecloud_id} switched from Trial to Paid.")
        if back_to_customer:
            return redirect(customer_url)
        return redirect("client-pane", code=client.code)
    return _client_page(
        request,
        client,
        "clients/confirm_paid.html",
        back_to_customer=back_to_customer,
        customer_url=customer_url,
        back_query="back=customer" + (f"&page={list_page}" if list_page else ""),
    )


@login_required
@require_POST
def client_extend_trial(request, code):
    client = get_client_for_user(request.user, code)
    require(request.user, Action.MANAGE_CLIENTS, client)
    form = ExtendTrialForm(request.POST)
    if form.is_valid():
        try:
            client = services.extend_trial(
                client,
                form.cleaned_data["days"],
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            # e.g. the client became Paid meanwhile: there is no trial form to show.
            messages.error(request, " ".join(exc.messages))
            return redirect("client-pane", code=client.code)
        else:
            messages.success(
                request,
                f"Trial of {client.securecloud_id} extended to {client.trial_ends_at:%Y-%m-%d}.",
            )
            return redirect("client-pane", code=client.code)
    return _client_page(
        request,
        client,
        "clients/client.html",
        extend_form=form,
        password_form=ResetPasswordForm(),
    )


@login_required
@require_POST
def client_reset_password(request, code):
    client = get_client_for_user(request.user, code)
    require(request.user, Action.ADD_CLIENTS, client)
    form = ResetPasswordForm(request.POST)
    if form.is_valid():
        try:
            services.set_client_password(
                client,
                form.cleaned_data["password"],
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"Password of {client.securecloud_id} reset: its agents must connect again "
                "with the new one.",
            )
            return redirect("client-pane", code=client.code)
    return _client_page(
        request,
        client,
        "clients/client.html",
        extend_form=ExtendTrialForm(),
        password_form=form,
    )


@login_required
@require_POST
def client_disable(request, code):
    client = get_client_for_user(request.user, code)
    require(request.user, Action.MANAGE_CLIENTS, client)
    services.disable_client(client, acting_user=request.user, origin=origin_of(request))
    messages.success(request, f"{client.securecloud_id} disabled: its agents are signed out.")
    return redirect("client-pane", code=client.code)


@login_required
@require_POST
def client_enable(request, code):
    client = get_client_for_user(request.user, code)
    require(request.user, Action.MANAGE_CLIENTS, client)
    services.enable_client(client, acting_user=request.user, origin=origin_of(request))
    messages.success(request, f"{client.securecloud_id} enabled.")
    return redirect("client-pane", code=client.code)


@login_required
@require_http_methods(["GET", "POST"])
def client_move(request, code):
    """Move to another customer of the admin's subtree (found by name, a page at a time)."""
    client = get_client_for_user(request.user, code)
    require(request.user, Action.MANAGE_CLIENTS, client)
    # Within the client's top-level reseller's tree (a superuser sees every tree).
    customers = (
        Node.objects.visible_to(request.user).customers().filter(tree_id=client.customer.tree_id)
    )
    form = MoveClientForm(form_data(request), customers=customers, current=client.customer)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["customer"]
        try:
            services.move_client(
                client, target, acting_user=request.user, origin=origin_of(request)
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{client.securecloud_id} moved to {target.name}.")
            return redirect("client-pane", code=client.code)
    query = search_term(request)
    candidates = form.fields["customer"].queryset.select_related("parent")
    if query:
        candidates = candidates.filter(Q(name__icontains=query))
    candidates = list(candidates[: MOVE_CHOICES_LIMIT + 1])
    return _client_page(
        request,
        client,
        "clients/move.html",
        form=form,
        q=query,
        candidates=candidates[:MOVE_CHOICES_LIMIT],
        more_candidates=len(candidates) > MOVE_CHOICES_LIMIT,
    )


@login_required
@require_http_methods(["GET", "POST"])
def client_delete(request, code):
    """Delete after typing the SecureCloud ID."""
    client = get_client_for_user(request.user, code)
    require(request.user, Action.DELETE, client)
    form = DeleteClientForm(form_data(request), client=client)
    if request.method == "POST" and form.is_valid():
        customer = client.customer
        services.delete_client(client, acting_user=request.user, origin=origin_of(request))
        messages.success(request, f"Client {client.securecloud_id} deleted.")
        return redirect("customer-pane", code=customer.code)
    return _client_page(
        request,
        client,
        "clients/delete.html",
        form=form,
    )
