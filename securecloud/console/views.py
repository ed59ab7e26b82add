"""Console pages of the organisation tree: the tree's pages of children, the console's
home, the reseller pane (customers, sub-resellers, admins, backup health) with its forms
and actions, and search. The customer pages are in `customer_views`, the shell they all
render in (the tree, the breadcrumb) in `shell`.

Every view is a thin function: access helper, form, one service call, then render or
redirect. No page loads more than one page of customers or clients, so the number of
queries and the size of each page stay the same whatever the size of the tenant.
"""

import bsicons
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clients.models import Client
from hierarchy import customer_user_settings, memberships, services
from hierarchy.access import get_membership_for_user, get_node_for_user, get_reseller_for_user
from hierarchy.models import ADMIN_ROLE_CHOICES, Node, reseller_of
from securecloud.accounts import invitations
from securecloud.accounts.permissions import Action, logins_action, require
from securecloud.console.forms import (
    AdminForm,
    CustomerSortForm,
    CustomerUserSettingsForm,
    ResellerForm,
    RoleForm,
)
from securecloud.console.shell import (
    TreeItem,
    page_number,
    paginate,
    pane_url,
    render_console,
    render_operator_console,
    table_page_of_tree_page,
    top_level_items,
    top_resellers,
    tree_children,
)
from securecloud.console.templatetags.icons import sprite, sprite_version
from securecloud.http import form_data, origin_of, search_term
from securecloud.mail.emails import send_invitation_email, send_set_password_email
from securecloud.mail.health import backup_health
from securecloud.site import site_url

SEARCH_LIMIT = 20
# Shorter terms match too much to be useful, and PostgreSQL's trigram indexes need three.
SEARCH_MIN_LENGTH = 3


# --- The hierarchy tree ---------------------------------------------------------------


@login_required
@require_safe
def tree_expand(request, code):
    """Children of a node, for the tree: the `children` partial for htmx, else its pane."""
    node = get_node_for_user(request.user, code)
    page = page_number(request)
    if not request.htmx:
        url = pane_url(node)
        return redirect(f"{url}?page={table_page_of_tree_page(page)}" if page > 1 else url)
    items, more = tree_children(node, page)
    response = render(
        request,
        "console/tree.html#children",
        {
            "items": items,
            "parent": TreeItem(
                kind=node.kind, obj=node, expandable=True, children=items, more_page=more
            ),
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Console home and the reseller pane ----------------------------------------------


@login_required
@require_safe
def console_home(request):
    if request.user.is_superuser:
        return _operator_home(request)
    reseller = reseller_of(request.user)
    if reseller is None:
        return render(request, "console/no_reseller.html", status=403)
    if reseller.is_customer:
        # A customer user's console home is its customer's pane.
        return redirect("customer-pane", code=reseller.code)
    return _reseller_pane(request, reseller)


def _operator_home(request):
    """A superuser's console home: every top-level reseller, one page at a time."""
    return render_operator_console(
        request, "console/operator_home.html", page=paginate(request, top_resellers())
    )


@login_required
@require_safe
def tree_top(request):
    """A page of the top-level resellers, for a superuser's tree ("Show more")."""
    if not request.user.is_superuser:
        raise Http404("No such tree.")
    page = page_number(request)
    if not request.htmx:
        url = reverse("console-home")
        return redirect(f"{url}?page={table_page_of_tree_page(page)}" if page > 1 else url)
    items, top = top_level_items(page)
    response = render(request, "console/tree.html#children", {"items": items, "parent": top})
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_safe
def reseller_pane(request, code):
    return _reseller_pane(request, get_reseller_for_user(request.user, code))


@login_required
@require_POST
def reseller_customer_user_settings(request, code):
    """Whether the reseller's customer users may add clients, and whether its two-factor
    policy applies to them (an Administrator's choice, on the reseller's pane)."""
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.MANAGE_SETTINGS, reseller)
    form = CustomerUserSettingsForm(request.POST)
    form.is_valid()  # two optional boxes: always valid
    customer_user_settings.set_customer_user_settings(
        reseller, **form.cleaned_data, acting_user=request.user, origin=origin_of(request)
    )
    messages.success(request, f"Customer users' settings of {reseller.name} saved.")
    return redirect("reseller-pane", code=reseller.code)


def _customer_table(request, reseller: Node):
    sort_form = CustomerSortForm(request.GET)
    sort = sort_form.cleaned_data["sort"] if sort_form.is_valid() else ""
    sort = sort or "name"
    order = CustomerSortForm.SORTS[sort]
    field_name = order.lstrip("-")
    expression = (
        F(field_name).desc(nulls_first=True)
        if order.startswith("-")
        else F(field_name).asc(nulls_last=True)
    )
    customers = Node.objects.customers().filter(parent=reseller)
    return paginate(request, customers.order_by(expression, "name", "pk")), sort


def _reseller_pane(request, reseller: Node, admin_form=None, status=200):
    page, sort = _customer_table(request, reseller)
    admins = list(reseller.memberships.select_related("user").order_by("user__username"))
    response = render_console(
        request,
        "hierarchy/reseller.html",
        node=reseller,
        reseller=reseller,
        page=page,
        sort=sort,
        admins=admins,
        role_choices=ADMIN_ROLE_CHOICES,
        admin_form=admin_form or AdminForm(),
        invitations=list(invitations.pending_invitations(reseller)),
        now=timezone.now(),
        health=backup_health(reseller),
        status=status,
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def subreseller_add(request, code):
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.MANAGE_RESELLERS, reseller)
    form = ResellerForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            sub = services.create_reseller(
                reseller,
                name=form.cleaned_data["name"],
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Sub-reseller {sub.name} added.")
            return redirect("reseller-pane", code=sub.code)
    return render_console(
        request,
        "hierarchy/reseller_form.html",
        node=reseller,
        form=form,
        title="Add Sub-Reseller",
    )


@login_required
@require_http_methods(["GET", "POST"])
def reseller_edit(request, code):
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.MANAGE_RESELLERS, reseller)
    try:
        # The service's own rule, asked before the form: no form for a rename it refuses.
        services.check_may_rename_reseller(reseller, acting_user=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("reseller-pane", code=reseller.code)
    form = ResellerForm(form_data(request), initial={"name": reseller.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.rename_reseller(
                reseller,
                form.cleaned_data["name"],
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Reseller renamed to {reseller.name}.")
            return redirect("reseller-pane", code=reseller.code)
    return render_console(
        request,
        "hierarchy/reseller_form.html",
        node=reseller,
        form=form,
        title=f"Edit {reseller.name}",
    )


@login_required
@require_POST
def admin_add(request, code):
    """Invite an admin: an email with a link to choose a username and a password."""
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.MANAGE_ADMINS, reseller)
    form = AdminForm(request.POST)
    if form.is_valid():
        try:
            sent = invitations.invite_admin(
                reseller,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            send_invitation(request, sent)
            return redirect(reverse("reseller-pane", args=[reseller.code]) + "#admins")
    return _reseller_pane(request, reseller, admin_form=form)


def _back_to_logins(node: Node):
    """Back to where an invitation's node lists its logins."""
    if node.is_customer:
        return redirect("customer-users", code=node.code)
    return redirect(reverse("reseller-pane", args=[node.code]) + "#admins")


def send_invitation(request, sent: invitations.SentInvitation) -> None:
    invitation = sent.invitation
    error = send_invitation_email(
        invitation.reseller,
        email=invitation.email,
        role_label=invitation.get_role_display(),
        path=reverse("invitation-accept", args=[sent.token]),
        invited_by=request.user.get_username(),
        site_url=site_url(request),
    )
    if error:
        messages.error(
            request,
            f"The invitation email to {invitation.email} failed ({error}); use \u201cResend\u201d "
            "to try again.",
        )
    else:
        messages.success(request, f"Invitation sent to {invitation.email}.")


@login_required
@require_POST
def invitation_resend(request, code):
    """A new link for a pending invitation (the old one stops working)."""
    invitation = invitations.get_invitation_for_user(request.user, code)
    require(request.user, logins_action(invitation.reseller), invitation.reseller)
    try:
        sent = invitations.resend_invitation(
            invitation, acting_user=request.user, origin=origin_of(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        send_invitation(request, sent)
    return _back_to_logins(invitation.reseller)


@login_required
@require_POST
def invitation_revoke(request, code):
    invitation = invitations.get_invitation_for_user(request.user, code)
    require(request.user, logins_action(invitation.reseller), invitation.reseller)
    try:
        invitations.revoke_invitation(
            invitation, acting_user=request.user, origin=origin_of(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Invitation of {invitation.email} revoked.")
    return _back_to_logins(invitation.reseller)


def _send_set_password_link(request, user) -> None:
    error = send_set_password_email(
        user, acting_user=request.user, origin=origin_of(request), site_url=site_url(request)
    )
    if error:
        messages.error(
            request,
            f"The email to {user.email} failed ({error}); use \u201cSend set-password link\u201d "
            "to try again.",
        )
    else:
        messages.success(request, f"A link to set a password went to {user.email}.")


@login_required
@require_POST
def admin_send_link(request, code):
    """Email an admin of the user's subtree a new link to set its password."""
    membership = get_membership_for_user(request.user, code)
    require(request.user, Action.MANAGE_ADMINS, membership)
    if not membership.user.email:
        messages.error(request, f"{membership.user.username} has no email address.")
    else:
        _send_set_password_link(request, membership.user)
    return redirect(reverse("reseller-pane", args=[membership.reseller.code]) + "#admins")


@login_required
@require_POST
def admin_remove(request, code):
    membership = get_membership_for_user(request.user, code)
    require(request.user, Action.MANAGE_ADMINS, membership)
    reseller = membership.reseller
    try:
        memberships.remove_reseller_admin(
            membership, acting_user=request.user, origin=origin_of(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Admin {membership.user.username} removed.")
    return redirect(reverse("reseller-pane", args=[reseller.code]) + "#admins")


@login_required
@require_POST
def admin_role(request, code):
    """Give an admin of the user's subtree another role."""
    membership = get_membership_for_user(request.user, code)
    require(request.user, Action.MANAGE_ADMINS, membership)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
    else:
        try:
            membership = memberships.set_admin_role(
                membership,
                form.cleaned_data["role"],
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                f"{membership.user.username} is now {membership.get_role_display()}.",
            )
    return redirect(reverse("reseller-pane", args=[membership.reseller.code]) + "#admins")


# --- Search --------------------------------------------------------------------------


@login_required
@require_safe
def search(request):
    """Customers (name, contact name or email) and clients (SecureCloud ID, name or email),
    within the user's subtree."""
    root = None if request.user.is_superuser else reseller_of(request.user)
    if root is None and not request.user.is_superuser:
        raise Http404("No reseller.")
    query = search_term(request)
    customers = clients = []
    too_short = len(query) < SEARCH_MIN_LENGTH
    if query and not too_short:
        customers = list(
            Node.objects.visible_to(request.user)
            .filter(
                Q(name__icontains=query)
                | Q(contact_name__icontains=query)
                | Q(contact_email__icontains=query)
            )
            .select_related("parent")
            .order_by("name", "pk")[:SEARCH_LIMIT]
        )
        clients = list(
            Client.objects.visible_to(request.user)
            .filter(
                Q(securecloud_id__icontains=query)
                | Q(name__icontains=query)
                | Q(email__icontains=query)
            )
            .select_related("customer")
            .order_by("securecloud_id")[:SEARCH_LIMIT]
        )
    context = {
        "q": query,
        "customers": customers,
        "clients": clients,
        "limit": SEARCH_LIMIT,
        "too_short": too_short,
        "min_length": SEARCH_MIN_LENGTH,
    }
    if request.htmx:
        response = render(request, "console/search.html#results", context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    if root is None:  # a superuser searches every tree
        return render_operator_console(request, "console/search.html", **context)
    return render_console(request, "console/search.html", node=root, **context)


@require_safe
def icon_sprite(request):
    """Every icon of the console in one SVG (templatetags/icons.py). Pages ask for it with
    its version, so the browser keeps it for a year; another version (a page from before
    a deploy) gets today's sprite, briefly cached."""
    response = HttpResponse(sprite(), content_type="image/svg+xml")
    current = request.GET.get("v") == sprite_version()
    response["Cache-Control"] = (
        "public, max-age=31536000, immutable" if current else "public, max-age=300"
    )
    return response


@require_safe
def favicon(request):
    """The browser asks every site for /favicon.ico: answer with the console's icon (an SVG
    from the icon set) rather than a 404 in every browser console."""
    with open(bsicons.get_icon_path("shield-lock"), encoding="utf-8") as handle:
        response = HttpResponse(handle.read(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
