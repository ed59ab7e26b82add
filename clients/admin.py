from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from clients import services
from clients.models import AgentRefreshToken, AgentToken, Client
from hierarchy.admin import ServiceAdminMixin
from hierarchy.models import Node


class ResellerFilter(admin.SimpleListFilter):
    """Clients anywhere under a reseller (its sub-resellers included)."""

    title = "reseller"
    parameter_name = "reseller"

    def lookups(self, request, model_admin):
        return [(str(r.code), r.name) for r in Node.objects.resellers().order_by("tree_id", "lft")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        reseller = Node.objects.resellers().filter(code=self.value()).first()
        return queryset.within(reseller) if reseller else queryset.none()


class ClientAddForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        # As typed: the password rules refuse spaces at either end rather than drop them.
        strip=False,
        help_text="Required when the customer's auto-authorization is off.",
    )

    class Meta:
        model = Client
        fields = ["customer", "securecloud_id", "name", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Node.objects.customers().select_related("parent")

    def _post_clean(self):
        pass  # clean() below runs the service's own validation

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("customer") is None:
            return cleaned
        try:
            services.clean_new_client(
                cleaned["customer"],
                securecloud_id=cleaned.get("securecloud_id", ""),
                password=cleaned.get("password") or None,
                name=cleaned.get("name", ""),
                email=cleaned.get("email", ""),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return cleaned


class ClientChangeForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = ["name", "email"]


@admin.register(Client)
class ClientAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = [
        "securecloud_id",
        "name",
        "customer",
        "plan",
        "status",
        "trial_ends_at",
        "used_bytes",
        "last_backup_at",
    ]
    list_filter = ["plan", "status", ResellerFilter]
    search_fields = ["securecloud_id", "email", "name", "customer__name"]
    list_select_related = ["customer"]
    readonly_fields = [
        "customer",
        "securecloud_id",
        "plan",
        "trial_ends_at",
        "status",
        "used_bytes",
        "last_seen_at",
        "last_backup_at",
        "last_backup_status",
        "agent_version",
        "hostname",
        "created_at",
        "updated_at",
    ]
    actions = ["switch_to_paid"]
    show_full_result_count = False  # no COUNT(*) over 100k rows on every page

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = ClientChangeForm if obj else ClientAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["customer", "securecloud_id", "name", "email", "password"]
        return ["name", "email", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            self._run(request, services.update_client, obj, name=data["name"], email=data["email"])
            return
        created = self._run(
            request,
            services.create_client,
            data["customer"],
            securecloud_id=data["securecloud_id"],
            name=data["name"],
            email=data["email"],
            password=data["password"] or None,
        )
        if created:
            obj.pk = created.pk

    def delete_model(self, request, obj):
        self._run(request, services.delete_client, obj)

    def delete_queryset(self, request, queryset):
        for client in queryset:
            self._run(request, services.delete_client, client)

    @admin.action(description="Switch to Paid")
    def switch_to_paid(self, request, queryset):
        for client in queryset:
            self._run(request, services.switch_to_paid, client)
        self.message_user(request, "Switched to Paid.", messages.SUCCESS)


@admin.register(AgentToken)
class AgentTokenAdmin(admin.ModelAdmin):
    list_display = ["client", "created_at"]
    raw_id_fields = ["client"]
    readonly_fields = ["client", "digest", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AgentRefreshToken)
class AgentRefreshTokenAdmin(admin.ModelAdmin):
    list_display = ["client", "created_at", "used_at"]
    raw_id_fields = ["client"]
    readonly_fields = ["client", "digest", "created_at", "used_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
