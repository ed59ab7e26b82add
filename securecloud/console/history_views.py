"""History: the audit log of a reseller's subtree, a customer or a client, scoped like
every console page, and shown in the console's right pane (the tree and the whole
breadcrumb stay in view)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.views.decorators.http import require_safe

from clients import access as client_access
from hierarchy import access, audit
from securecloud.console import history
from securecloud.console.shell import render_console

PAGE_SIZE = 50


def _render(request, subject, events, *, node, client=None):
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    entries = [history.describe(event) for event in page.object_list]
    return render_console(
        request,
        "audit/history.html",
        node=node,
        client=client,
        subject=subject,
        page=page,
        entries=entries,
        page_crumb="History",
    )


@login_required
@require_safe
def reseller_history(request, code):
    reseller = access.get_reseller_for_user(request.user, code)
    events = audit.history_for_user(request.user, node=reseller)
    return _render(request, reseller, events, node=reseller)


@login_required
@require_safe
def customer_history(request, code):
    customer = access.get_customer_for_user(request.user, code)
    events = audit.history_for_user(request.user, node=customer)
    return _render(request, customer, events, node=customer)


@login_required
@require_safe
def client_history(request, code):
    client = client_access.get_client_for_user(request.user, code)
    events = audit.history_for_user(request.user, client=client)
    return _render(request, client, events, node=client.customer, client=client)
