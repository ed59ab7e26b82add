"""The Django admin of logins: Django's own, with a password that a superuser sets for
a login recorded in the audit log (securecloud.accounts.account_events) and to be
changed by the login at its next sign-in (securecloud.accounts.password_state)."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from securecloud.accounts import account_events, password_state
from securecloud.http import request_origin

User = get_user_model()


class UserAdmin(auth_admin.UserAdmin[Any]):
    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # The new password and its audit event (log_change, below) in one transaction.
        with transaction.atomic():
            return super().user_change_password(request, id, form_url)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        # The password page logs a change only once it has saved the new password.
        match = request.resolver_match
        page = f"{self.opts.app_label}_{self.opts.model_name}_password_change"
        if match is not None and match.url_name == page:
            account_events.record_new_password(
                obj, how="set", acting_user=request.user, origin=request_origin(request, "admin")
            )
            if obj.pk != request.user.pk:
                # Set by someone else: the login chooses its own at its next sign-in.
                password_state.require_password_change(obj)
        return entry

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not change and obj.has_usable_password():
                # A login added here with a password the superuser chose.
                password_state.require_password_change(obj)


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
