"""Signing in and out (recorded in the audit log), and the signed-in admin's own
account: password, two-factor sign-in and recovery codes."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp import login as otp_login

from hierarchy import services
from hierarchy.access import get_reseller_for_user
from securecloud.accounts import (
    account_events,
    invitations,
    password_reset,
    password_state,
    twofactor,
)
from securecloud.accounts.forms import AcceptInvitationForm, TokenForm
from securecloud.accounts.permissions import Action, require
from securecloud.http import client_ip, form_data, origin_of, request_origin
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


def _to_verify(request):
    """Send a session that has not passed its second factor to enter a code, coming back
    to the page it asked for (or to the account page, after a POST)."""
    back = request.get_full_path() if request.method == "GET" else reverse("account")
    messages.info(request, twofactor.NOT_VERIFIED)
    return redirect(f"{reverse('two-factor-verify')}?{urlencode({'next': back})}")


def second_factor_passed(view):
    """For pages that change how the admin signs in: a session that has not passed the
    second factor of a user who has one is sent to enter a code first."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated and not twofactor.may_change(request):
            return _to_verify(request)
        return view(request, *args, **kwargs)

    return wrapped


class SignInView(auth_views.LoginView):
    """Django's sign-in page, with each sign-in and each refused one in the audit log
    (securecloud.accounts.account_events). A refused one is recorded once, whether the
    password was wrong or django-axes refused the address and username (its lockout
    page then replaces this answer: axes.middleware)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        account_events.record_sign_in(user, acting_user=user, origin=request_origin(self.request))
        return response

    def form_invalid(self, form):
        if form.has_error(NON_FIELD_ERRORS, "invalid_login") or form.has_error(
            NON_FIELD_ERRORS, "inactive"
        ):
            account_events.record_failed_sign_in(
                form.cleaned_data.get("username", ""),
                locked_out=bool(getattr(self.request, "axes_locked_out", False)),
                acting_user=None,
                origin=request_origin(self.request),
            )
        return super().form_invalid(form)


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            account_events.record_sign_out(
                request.user, acting_user=request.user, origin=request_origin(request)
            )
        return super().post(request, *args, **kwargs)


@require_safe
def admin_login(request):
    """The Django admin signs in through the console's sign-in page (one page, one
    audit trail, one lockout), coming back to the admin afterwards."""
    target = request.GET.get("next") or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("admin:index")
    return redirect(f"{reverse('login')}?{urlencode({'next': target})}")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's page; the new password and its audit event are saved together."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["must_change"] = password_state.must_change_password(self.request.user)
        context["must_change_message"] = password_state.MUST_CHANGE_MESSAGE
        return context

    def form_valid(self, form):
        with transaction.atomic():
            account_events.save_password(
                form, how="changed", acting_user=self.request.user, origin=origin_of(self.request)
            )
            password_state.password_changed(form.user, self.request)
        update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())


password_change = login_required(second_factor_passed(PasswordChangeView.as_view()))


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's page behind the emailed link; the new password and its audit event are
    saved together (the link's user acts: nobody is signed in)."""

    post_reset_login = False  # signing in after a reset is the sign-in page's job

    def form_valid(self, form):
        with transaction.atomic():
            account_events.save_password(
                form, how="reset", acting_user=form.user, origin=origin_of(self.request)
            )
            password_state.password_changed(form.user)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


@never_cache  # the key, then the recovery codes: no copy for Back after signing out
@login_required
@require_http_methods(["GET", "POST"])
@second_factor_passed
def two_factor_setup(request):
    """Show a key to scan (kept in the session: nothing is stored until a code from the
    app confirms it), then make it the admin's authenticator."""
    form = TokenForm(form_data(request))
    key = twofactor.pending_key(request)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = twofactor.confirm_setup(
                request.user,
                key,
                form.cleaned_data["token"],
                verified=request.user.is_verified(),
                origin=origin_of(request),
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "not_verified":
                return _to_verify(request)
            form.add_error(None, exc)
        else:
            twofactor.drop_pending_key(request)
            otp_login(request, device)
            twofactor.forget_clearance(request)
            messages.success(request, "Two-factor sign-in is on.")
            return render(
                request,
                "account/recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
    device = twofactor.authenticator_for_key(request.user, key)
    return render(
        request,
        "account/two_factor_setup.html",
        {
            "form": form,
            "secret": twofactor.secret_for_display(device),
            "qr_data_uri": twofactor.qr_data_uri(device),
            "required": twofactor.two_factor_required(request.user),
            "replacing": twofactor.has_two_factor(request.user),
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
        account_events.record_two_factor_check(
            request.user,
            passed=device is not None,
            acting_user=request.user,
            origin=origin_of(request),
        )
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
@second_factor_passed
def two_factor_disable(request):
    try:
        twofactor.disable(
            request.user, verified=request.user.is_verified(), origin=origin_of(request)
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        twofactor.forget_clearance(request)
        messages.success(request, "Two-factor sign-in is off.")
    return redirect("account")


@never_cache
@login_required
@require_POST
@second_factor_passed
def recovery_codes_regenerate(request):
    try:
        codes = twofactor.regenerate_recovery_codes(
            request.user, verified=request.user.is_verified(), origin=origin_of(request)
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("account")
    twofactor.keep_verified(request)
    return render(request, "account/recovery_codes.html", {"codes": codes, "next": "/"})


@login_required
@require_POST
def reseller_two_factor_policy(request, code):
    reseller = get_reseller_for_user(request.user, code)
    require(request.user, Action.MANAGE_SETTINGS, reseller)
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
    """Django's page, but the request only queues the email (securecloud.accounts.password_reset):
    the answer is the same, and as quick, whether or not a login has the address and
    whether or not the address or the client is over its limit."""

    def form_valid(self, form):
        password_reset.request_reset(
            form.cleaned_data["email"], client_ip(self.request), site_url=site_url(self.request)
        )
        return HttpResponseRedirect(self.get_success_url())


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    """The page an invitation's link opens (no sign-in): choose a username and a
    password. A link that cannot be used (used, revoked, expired, unknown) says why."""
    origin = origin_of(request)
    try:
        invitation = invitations.check_token(token, origin=origin)
    except invitations.InvitationError as exc:
        return render(request, "account/invitation_invalid.html", {"reason": exc.messages[0]})
    form = AcceptInvitationForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.accept_invitation(
                token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                origin=origin,
            )
        except invitations.InvitationError as exc:
            return render(request, "account/invitation_invalid.html", {"reason": exc.messages[0]})
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, f"Your login {user.get_username()} is ready: sign in with it."
            )
            return redirect("login")
    return render(
        request, "account/invitation_accept.html", {"form": form, "invitation": invitation}
    )


def _add_errors(form, exc: ValidationError) -> None:
    """The service's errors on the form's fields (its "password" is the form's
    "password1"; "email" and anything else on the whole form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        target = {"username": "username", "password": "password1"}.get(field)
        for error in errors:
            form.add_error(target, error)
