"""A customer's users (a page linked from its pane): its own logins (role Customer
user). The reseller's Administrators and Technicians invite one (an emailed link, like
an admin's invitation) and remove one; every write is audited by its service."""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST, require_safe

from hierarchy import memberships
from hierarchy.access import get_customer_for_user, get_membership_for_user
from hierarchy.models import Membership, Node
from securecloud.accounts import invitations
from securecloud.accounts.permissions import Action, require
from securecloud.console.forms import CustomerUserForm
from securecloud.console.shell import render_console
from securecloud.console.views import send_invitation
from securecloud.http import origin_of


@login_required
@require_safe
def customer_users(request: HttpRequest, code: UUID) -> HttpResponse:
    """The customer's users and pending invitations; those who manage the customer
    invite and remove them here."""
    customer = get_customer_for_user(request.user, code)
    return render_console(
        request,
        "hierarchy/customer_users.html",
        node=customer,
        customer=customer,
        customer_users=list(customer.memberships.select_related("user").order_by("user__username")),
        customer_invitations=list(invitations.pending_invitations(customer)),
    )


def _back(customer: Node) -> HttpResponse:
    return redirect("customer-users", code=customer.code)


@login_required
@require_POST
def customer_user_invite(request: HttpRequest, code: UUID) -> HttpResponse:
    """Invite a user of the customer: an email with a link to choose a username and a
    password."""
    customer = get_customer_for_user(request.user, code)
    require(request.user, Action.MANAGE_CUSTOMERS, customer)
    form = CustomerUserForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid email address to send the invitation to.")
        return _back(customer)
    try:
        sent = invitations.invite_customer_user(
            customer,
            email=form.cleaned_data["email"],
            acting_user=request.user,
            origin=origin_of(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        send_invitation(request, sent)
    return _back(customer)


@login_required
@require_POST
def customer_user_remove(request: HttpRequest, code: UUID) -> HttpResponse:
    membership = get_membership_for_user(request.user, code)
    if membership.role != Membership.Role.CUSTOMER:
        raise Http404("No such customer user.")
    customer = membership.reseller
    require(request.user, Action.MANAGE_CUSTOMERS, customer)
    username = membership.user.get_username()
    memberships.remove_customer_user(
        membership, acting_user=request.user, origin=origin_of(request)
    )
    messages.success(request, f"Customer user {username} removed.")
    return _back(customer)
