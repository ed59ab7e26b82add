"""The Django admin of logins: Django's own, with a password that a superuser sets for
a login recorded in the audit log (securecloud.accounts.account_events) and to be
changed by the login at its next sign-in (securecloud.accounts.password_state)."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from securecloud.accounts import account_events, api_keys, password_state
from securecloud.accounts.models import ApiKey
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


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    """Admin API keys, read only: a key is created where it can be shown once (the API
    keys page, create_api_key), and revoked through the service (audited)."""

    list_display = (
        "name",
        "reseller",
        "role",
        "prefix",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_filter = ("role",)
    search_fields = ("name", "reseller__name", "prefix")
    readonly_fields = [field.name for field in ApiKey._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for api_key in queryset:
            api_keys.revoke_api_key(
                api_key, acting_user=request.user, origin=request_origin(request, "admin")
            )
        self.message_user(request, f"{queryset.count()} API key(s) revoked.")
