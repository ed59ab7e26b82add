"""The Branding page (Reseller Admin → Branding): an Administrator sets the reseller's
product name, logo, colour, support contact, sender name and console address. The
service (securecloud.branding.services) validates, writes and audits."""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_safe

from hierarchy.access import get_reseller_for_user
from hierarchy.models import reseller_of
from securecloud.accounts.permissions import Action, require
from securecloud.branding import services
from securecloud.branding.brands import DEFAULT_BRAND, INHERITED, brand_for, host_is_served
from securecloud.console.branding_forms import BrandingForm
from securecloud.console.shell import render_console
from securecloud.http import form_data, origin_of


@login_required
@require_safe
def branding_home(request: HttpRequest) -> HttpResponse:
    """The menu's entry: the Branding page of the signed-in admin's own reseller."""
    reseller = reseller_of(request.user)  # type: ignore[no-untyped-call]
    if reseller is None:
        raise Http404("No reseller to brand.")
    require(request.user, Action.MANAGE_SETTINGS, reseller)
    if not reseller.is_reseller:
        raise Http404("No reseller to brand.")
    return redirect("reseller-branding", code=reseller.code)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def reseller_branding(request: HttpRequest, code: UUID) -> HttpResponse:
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.MANAGE_SETTINGS, reseller)
    row = services.branding_of(reseller)
    parent = brand_for(reseller.parent) if reseller.parent_id else DEFAULT_BRAND
    form = BrandingForm(form_data(request), request.FILES or None, row=row, parent=parent)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_branding(
                reseller,
                acting_user=request.user,
                origin=origin_of(request),
                logo=form.logo_read,
                remove_logo=bool(form.cleaned_data.get("remove_logo")),
                **form.values(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Branding of {reseller.name} saved.")
            return redirect("reseller-branding", code=reseller.code)
    brand = brand_for(reseller)
    return render_console(
        request,
        "branding/branding.html",
        node=reseller,
        reseller=reseller,
        form=form,
        row=row,
        preview=brand,
        host_not_served=row.console_host and not host_is_served(row.console_host),
        settings_in_force=[
            (name, getattr(brand, name), brand.sources.get(name)) for name in INHERITED
        ],
    )
