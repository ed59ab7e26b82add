"""The signed-in admin's own account: two-factor sign-in and recovery codes."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from hierarchy import services, twofactor
from hierarchy.access import get_reseller_for_user
from hierarchy.forms_account import TokenForm
from hierarchy.views import form_data, origin_of
from securecloud.site import site_url


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/"


@login_required
def account(request):
    return render(
        request,
        "account/account.html",
        {
            "has_two_factor": twofactor.has_two_factor(request.user),
            "two_factor_required": twofactor.two_factor_required(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    device = twofactor.pending_device(request.user)
    if request.method == "GET" or device is None:
        device = twofactor.start_setup(request.user)
        form = TokenForm()
    else:
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                codes = twofactor.confirm_setup(request.user, device, form.cleaned_data["token"])
            except ValidationError as exc:
                form.add_error("token" if hasattr(exc, "error_dict") else None, exc)
            else:
                otp_login(request, device)
                twofactor.forget_clearance(request)
                messages.success(request, "Two-factor sign-in is on.")
                return render(
                    request,
                    "account/recovery_codes.html",
                    {"codes": codes, "next": _next_url(request)},
                )
    return render(
        request,
        "account/two_factor_setup.html",
        {
            "form": form,
            "device": device,
            "secret": twofactor.secret_for_display(device),
            "qr_data_uri": twofactor.qr_data_uri(device),
            "required": twofactor.two_factor_required(request.user),
            "next": _next_url(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    if not twofactor.has_two_factor(request.user):
        return redirect("two-factor-setup")
    form = TokenForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error(
            "token",
            "That code is not right. Enter the 6 digits your app shows "
            "now, or one of your recovery codes.",
        )
    return render(
        request, "account/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


@login_required
@require_POST
def two_factor_disable(request):
    try:
        twofactor.disable(request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        twofactor.forget_clearance(request)
        messages.success(request, "Two-factor sign-in is off.")
    return redirect("account")


@login_required
@require_POST
def recovery_codes_regenerate(request):
    if not twofactor.has_two_factor(request.user):
        messages.error(request, "Turn on two-factor sign-in first.")
        return redirect("account")
    codes = twofactor.regenerate_recovery_codes(request.user)
    return render(request, "account/recovery_codes.html", {"codes": codes, "next": "/"})


@login_required
@require_POST
def reseller_two_factor_policy(request, code):
    reseller = get_reseller_for_user(request.user, code)
    required = request.POST.get("required") == "1"
    services.set_two_factor_policy(
        reseller, required, acting_user=request.user, origin=origin_of(request)
    )
    if required:
        messages.success(
            request,
            f"Every admin of {reseller.name} and the resellers below it "
            "must now sign in with a second factor.",
        )
    else:
        messages.success(
            request,
            f"{reseller.name} no longer requires two-factor sign-in "
            "(a reseller above it may still require it).",
        )
    return redirect(
        request.POST.get("next")
        if url_has_allowed_host_and_scheme(request.POST.get("next", ""), {request.get_host()})
        else "account"
    )


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with the link built from SITE_URL rather than the request's Host header
    (which a forged request could point elsewhere)."""

    def form_valid(self, form):
        self.extra_email_context = {"site_url": site_url(self.request)}
        return super().form_valid(form)
