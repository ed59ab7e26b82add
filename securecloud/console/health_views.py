"""The reseller pane's filtered lists: backup health (failed, silent, over usage space)
and the trials (ending within 7 days, expired), whose clients can be selected for
Switch to Paid or Extend trial (`client_bulk_views`)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from clients.models import Client, expired_trial_q, trial_ending_q
from hierarchy.access import get_reseller_for_user
from hierarchy.models import Node
from securecloud.console.shell import paginate, render_console
from securecloud.mail.health import over_quota_q, stale_clients_q

HEALTH_LISTS = {
    "failed": "Clients whose last backup failed",
    "stale": "Clients with no successful backup in 24 hours",
    "over-quota": "Customers over their usage space",
    "trials-ending": "Trials ending within 7 days",
    "expired-trials": "Expired trials",
}
TRIAL_LISTS: dict[str, Callable[[datetime], Q]] = {
    "trials-ending": trial_ending_q,
    "expired-trials": expired_trial_q,
}


@login_required
@require_safe
def health_list(request: HttpRequest, code: UUID, kind: str) -> HttpResponse:
    reseller = get_reseller_for_user(request.user, code)
    if kind not in HEALTH_LISTS:
        raise Http404("No such list.")
    now = timezone.now()
    rows: QuerySet[Any]
    if kind == "over-quota":
        rows = (
            Node.objects.within(reseller)
            .customers()
            .filter(over_quota_q())
            .select_related("parent")
            .order_by("name", "pk")
        )
    else:
        clients = Client.objects.within(reseller).select_related("customer")
        if kind == "failed":
            rows = clients.filter(last_backup_status=Client.BackupStatus.FAILED)
        elif kind == "stale":
            rows = clients.filter(stale_clients_q(now))
        else:
            # Soonest end first: the (plan, trial_ends_at) index gives the order.
            rows = clients.filter(TRIAL_LISTS[kind](now)).order_by(
                "trial_ends_at", "securecloud_id"
            )
        if kind in ("failed", "stale"):
            rows = rows.order_by("securecloud_id")
    return render_console(
        request,
        "hierarchy/health.html",
        node=reseller,
        reseller=reseller,
        kind=kind,
        title=HEALTH_LISTS[kind],
        page=paginate(request, rows),
        trials=kind in TRIAL_LISTS,
    )
