"""Passwords set by someone else must be changed at the next sign-in.

A password that one person sets for another (a superuser in the Django admin, or an
Administrator's reset) marks the login (`PasswordState.must_change`); the login's own
change clears it. The commands are the operator's own: they mark nothing unless asked
(`create_reseller_admin --must-change-password`).

`ForcedPasswordChangeMiddleware` (after the sign-in and two-factor middleware) sends a
marked login to the password change page from every other page, whatever the method,
htmx or not: only that page, signing out, the second factor's pages and static files
stay reachable. The flag is read once per session (kept in the session): setting
another's password ends that login's sessions anyway, so a new sign-in reads it again.
"""

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from securecloud.accounts.models import PasswordState

MUST_CHANGE_MESSAGE = "Your password was set by someone else: choose a new one to continue."
_SESSION_KEY = "password_must_change"
_EXEMPT_URL_NAMES = (
    "password_change",
    "password_change_done",
    "logout",
    "admin-logout",
    "two-factor-verify",
    "two-factor-setup",
)


def must_change_password(user: Any) -> bool:
    return PasswordState.objects.filter(user_id=user.pk, must_change=True).exists()


def require_password_change(user: Any) -> None:
    """Mark `user`'s login: its password was set by someone else. Called inside the
    transaction that set the password (which the caller audits)."""
    with transaction.atomic():
        PasswordState.objects.update_or_create(user=user, defaults={"must_change": True})


def password_changed(user: Any, request: HttpRequest | None = None) -> None:
    """The login chose its own password: nothing more to force (in `request`'s session
    too, when the change happened in one)."""
    PasswordState.objects.filter(user_id=user.pk, must_change=True).update(must_change=False)
    if request is not None and hasattr(request, "session"):
        request.session[_SESSION_KEY] = False


class ForcedPasswordChangeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._exempt_paths: set[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            not self._exempt(request.path)
            and user is not None
            and user.is_authenticated
            and self._must_change(request)
        ):
            return redirect("password_change")
        return self.get_response(request)

    @staticmethod
    def _must_change(request: HttpRequest) -> bool:
        session = request.session
        if _SESSION_KEY not in session:
            session[_SESSION_KEY] = must_change_password(request.user)
        return bool(session[_SESSION_KEY])

    def _exempt(self, path: str) -> bool:
        if path.startswith(("/static/", "/api/", "/healthz")):
            return True
        if self._exempt_paths is None:
            self._exempt_paths = {reverse(name) for name in _EXEMPT_URL_NAMES}
        return path in self._exempt_paths
