"""Approve and Reject of an agent waiting for approval (the customer pane's "Pending
approval" list): access helper, permission, one service call, back to the pane."""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from clients import pending
from clients.access import get_pending_request_for_user
from securecloud.accounts.permissions import Action, require
from securecloud.http import origin_of


@login_required
@require_POST
def pending_approve(request: HttpRequest, code: UUID) -> HttpResponse:
    waiting = get_pending_request_for_user(request.user, code)
    require(request.user, Action.ADD_CLIENTS, waiting.customer)
    try:
        client = pending.approve_request(
            waiting, acting_user=request.user, origin=origin_of(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{client.securecloud_id} approved: a Trial client now, its agent connects with "
            "the password it presented.",
        )
    return redirect("customer-pane", code=waiting.customer.code)


@login_required
@require_POST
def pending_reject(request: HttpRequest, code: UUID) -> HttpResponse:
    waiting = get_pending_request_for_user(request.user, code)
    require(request.user, Action.ADD_CLIENTS, waiting.customer)
    try:
        pending.reject_request(waiting, acting_user=request.user, origin=origin_of(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Request of {waiting.securecloud_id} rejected.")
    return redirect("customer-pane", code=waiting.customer.code)
