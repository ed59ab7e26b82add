"""Switch to Paid and Extend trial for several clients at once, from the customer
pane's client list and the reseller pane's trial lists: one service call per client
(the same services as the client pane), each audited as its own change."""

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from clients import services
from clients.models import Client
from clients.services import MAX_TRIAL_EXTENSION_DAYS
from securecloud.accounts.permissions import Action, require
from securecloud.http import origin_of

MAX_SELECTED = 500
NOTHING_SELECTED = "Select one or more clients first."


class BulkClientsForm(forms.Form):
    action = forms.ChoiceField(
        label="Action", choices=[("paid", "Switch to Paid"), ("extend", "Extend trial")]
    )
    days = forms.IntegerField(
        label="Extend trial by (days)",
        min_value=1,
        max_value=MAX_TRIAL_EXTENSION_DAYS,
        required=False,
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        # Any UUID may be sent: which of them the user reaches is decided by visible_to
        # (another tenant's codes match nothing, as one client's answer 404).
        try:
            sent = self.data.getlist("clients")  # type: ignore[attr-defined]
            codes = [UUID(code) for code in sent]
        except ValueError:
            codes = []
        if not codes:
            raise ValidationError(NOTHING_SELECTED)
        if len(codes) > MAX_SELECTED:
            raise ValidationError(f"Select at most {MAX_SELECTED} clients at once.")
        cleaned["clients"] = codes
        if cleaned.get("action") == "extend" and not cleaned.get("days"):
            self.add_error("days", f"Enter a number of days from 1 to {MAX_TRIAL_EXTENSION_DAYS}.")
        return cleaned


def _back(request: HttpRequest) -> str:
    back = request.POST.get("back", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return "/"


@login_required
@require_POST
def clients_bulk(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_CLIENTS)
    back = _back(request)
    form = BulkClientsForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = "" if field == "__all__" else f"{form.fields[field].label}: "
            messages.error(request, label + " ".join(str(error) for error in errors))
        return redirect(back)
    clients = list(
        Client.objects.visible_to(request.user)
        .filter(code__in=form.cleaned_data["clients"])
        .order_by("securecloud_id")
    )
    if not clients:
        messages.error(request, NOTHING_SELECTED)
        return redirect(back)
    done, skipped = 0, []
    for client in clients:
        try:
            if form.cleaned_data["action"] == "paid":
                if client.is_paid:
                    continue
                services.switch_to_paid(client, acting_user=request.user, origin=origin_of(request))
            else:
                services.extend_trial(
                    client,
                    form.cleaned_data["days"],
                    acting_user=request.user,
                    origin=origin_of(request),
                )
        except ValidationError:
            skipped.append(client.securecloud_id)
        else:
            done += 1
    what = "switched to Paid" if form.cleaned_data["action"] == "paid" else "trial extended"
    messages.success(request, f"{done} client{'' if done == 1 else 's'}: {what}.")
    if skipped:
        messages.warning(request, f"Not a trial (left as it is): {', '.join(skipped)}.")
    return redirect(back)
