"""The "API keys" page (Reseller Admin menu): an Administrator creates keys of its
reseller for the admin API, sees when each was last used, and revokes them. A new key
is shown once, in the answer to the POST that created it (sent `no-store`), and never
again: only its digest is kept."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hierarchy.access import get_reseller_for_user
from hierarchy.models import ADMIN_ROLE_CHOICES, Membership, Node, reseller_of
from hierarchy.validators import MAX_NAME_LENGTH
from securecloud.accounts import api_keys
from securecloud.accounts.permissions import Action, require
from securecloud.console.forms import save_helper
from securecloud.console.shell import render_console
from securecloud.http import form_data, origin_of


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=MAX_NAME_LENGTH,
        help_text="What the key is for, e.g. the PSA that uses it.",
    )
    role = forms.ChoiceField(
        label="Role", choices=ADMIN_ROLE_CHOICES, initial=Membership.Role.READ_ONLY
    )
    expires_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=api_keys.MAX_EXPIRY_DAYS,
        help_text="Empty: the key works until it is revoked.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = save_helper(self, "Create key")


@login_required
@require_safe
def api_keys_home(request: HttpRequest) -> HttpResponse:
    """The menu's entry: the keys of the admin's own reseller."""
    reseller = reseller_of(request.user)
    if reseller is None:  # the server's operator: every reseller's pane links its keys
        messages.info(request, "Open a reseller's pane to manage its API keys.")
        return redirect("console-home")
    require(request.user, Action.MANAGE_SETTINGS, reseller)
    return redirect("api-keys", code=reseller.code)


def _page(
    request: HttpRequest,
    reseller: Node,
    form: ApiKeyForm,
    new_key: api_keys.NewKey | None = None,
    status: int = 200,
) -> HttpResponse:
    response = render_console(
        request,
        "accounts/api_keys.html",
        node=reseller,
        reseller=reseller,
        form=form,
        keys=list(api_keys.keys_of(reseller).select_related("created_by")),
        new_key=new_key,
        status=status,
    )
    if new_key is not None:
        add_never_cache_headers(response)  # the one page that shows the key itself
    return response


@login_required
@require_http_methods(["GET", "POST"])
def api_keys_page(request: HttpRequest, code: str) -> HttpResponse:
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.MANAGE_SETTINGS, reseller)
    form = ApiKeyForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            new_key = api_keys.create_api_key(
                reseller,
                **form.cleaned_data,
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _page(request, reseller, ApiKeyForm(), new_key=new_key)
    return _page(request, reseller, form, status=400 if form.errors else 200)


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, code: str) -> HttpResponse:
    api_key = api_keys.get_key_for_user(request.user, code)
    require(request.user, Action.MANAGE_SETTINGS, api_key.reseller)
    api_keys.revoke_api_key(api_key, acting_user=request.user, origin=origin_of(request))
    messages.success(request, f"API key {api_key.name} revoked: it no longer works.")
    return redirect("api-keys", code=api_key.reseller.code)
