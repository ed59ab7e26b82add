"""The Django admin of logins: Django's own, with a password that a superuser sets for
a login recorded in the audit log (securecloud.accounts.account_events)."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from securecloud.accounts import account_events
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
        return entry


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
