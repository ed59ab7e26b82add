"""Django admin for superusers: the organisation tree, through the services.

No MPTTModelAdmin: it indents rows with inline style attributes, which the
Content-Security-Policy blocks. Indentation here is a CSS class per level.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html

from hierarchy import memberships, services
from hierarchy.models import (
    USAGE_SPACE_CHOICES,
    AuditEvent,
    Customer,
    Membership,
    Node,
    Reseller,
)
from hierarchy.services import CUSTOMER_SETTINGS
from hierarchy.validators import clean_reseller_name
from securecloud.http import request_origin


def _origin(request) -> str:
    return request_origin(request, "admin")


class TreeIndentMixin:
    class Media:
        css = {"all": ["css/admin-tree.css"]}

    @admin.display(description="Name", ordering="lft")
    def indented_name(self, obj):
        return format_html('<span class="tree-level-{}">{}</span>', min(obj.level, 9), obj.name)


class ServiceAdminMixin:
    """Saves go through the services; their validation errors come back as messages."""

    def _run(self, request, action, *args, **kwargs):
        try:
            return action(*args, acting_user=request.user, origin=_origin(request), **kwargs)
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return None
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None


class ResellerForm(forms.ModelForm):
    class Meta:
        model = Reseller
        fields = ["name", "parent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Node.objects.resellers()
        self.fields["parent"].required = False
        if self.instance.pk:
            # Resellers are not moved between trees; only renamed here.
            self.fields["parent"].disabled = True

    def clean_name(self):
        # The services check again; here the error shows on the field.
        try:
            return clean_reseller_name(self.cleaned_data.get("name"))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["name"]) from None

    def clean(self):
        cleaned = super().clean()
        name = (cleaned.get("name") or "").strip()
        parent = self.instance.parent if self.instance.pk else cleaned.get("parent")
        if name and services.reseller_name_taken(name, parent=parent, exclude_pk=self.instance.pk):
            self.add_error("name", "A reseller with this name already exists.")
        return cleaned

    def _post_clean(self):
        # Model-level validation is the services' job (they lock the tree first).
        pass


@admin.register(Reseller)
class ResellerAdmin(TreeIndentMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = ResellerForm
    list_display = ["indented_name", "parent", "created_at"]
    search_fields = ["name"]
    ordering = ["tree_id", "lft"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=Node.Kind.RESELLER)

    def save_model(self, request, obj, form, change):
        if change:
            self._run(request, services.rename_reseller, obj, form.cleaned_data["name"])
        else:
            created = self._run(
                request,
                services.create_reseller,
                form.cleaned_data["parent"],
                name=form.cleaned_data["name"],
            )
            if created:
                obj.pk = created.pk

    def delete_model(self, request, obj):
        self._run(request, services.delete_reseller, obj)

    def delete_queryset(self, request, queryset):
        for reseller in queryset:
            self._run(request, services.delete_reseller, reseller)


class CustomerForm(forms.ModelForm):
    usage_space_bytes = forms.TypedChoiceField(
        label="Usage space",
        choices=[("" if v is None else v, label) for v, label in USAGE_SPACE_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
    )

    class Meta:
        model = Customer
        fields = ["parent", *CUSTOMER_SETTINGS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Node.objects.resellers()
        self.fields["parent"].required = True
        self.fields["contact_email"].required = True
        current = self.instance.usage_space_bytes if self.instance.pk else None
        choices = self.fields["usage_space_bytes"].choices
        if current is not None and current not in dict(USAGE_SPACE_CHOICES):
            choices.append((current, f"{self.instance.usage_space_label} (imported)"))
            self.fields["usage_space_bytes"].choices = choices

    def _post_clean(self):
        pass

    def clean(self):
        cleaned = super().clean()
        fields = {k: cleaned.get(k) for k in CUSTOMER_SETTINGS}
        try:
            services.clean_customer_fields(**fields)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        parent, name = cleaned.get("parent"), (cleaned.get("name") or "").strip()
        if parent and name and services.customer_name_taken(parent, name, self.instance.pk):
            self.add_error("name", "This reseller already has a customer with this name.")
        return cleaned


@admin.register(Customer)
class CustomerAdmin(TreeIndentMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = CustomerForm
    list_display = [
        "name",
        "parent",
        "contact_email",
        "usage_space_label",
        "auto_add_clients",
        "email_reports",
        "created_at",
    ]
    list_filter = ["auto_add_clients", "email_reports"]
    search_fields = ["name", "contact_email", "contact_name"]
    list_select_related = ["parent"]
    readonly_fields = ["registration_key", "used_bytes", "created_at", "updated_at"]
    fields = ["parent", *CUSTOMER_SETTINGS, *readonly_fields]
    actions = ["enable_auto_authorization", "disable_auto_authorization"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=Node.Kind.CUSTOMER)

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in CUSTOMER_SETTINGS}
        parent = form.cleaned_data["parent"]
        if not change:
            created = self._run(request, services.create_customer, parent, **data)
            if created:
                obj.pk = created.pk
            return
        original = Node.objects.get(pk=obj.pk)
        updated = self._run(request, services.update_customer, original, **data)
        if updated and parent.pk != original.parent_id:
            self._run(request, services.move_customer, updated, parent)

    def delete_model(self, request, obj):
        self._run(request, services.delete_customer, obj)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            self._run(request, services.delete_customer, customer)

    @admin.action(description="Enable auto-authorization")
    def enable_auto_authorization(self, request, queryset):
        for customer in queryset:
            self._run(request, services.set_auto_authorization, customer, True)
        self.message_user(request, "Auto-authorization enabled.")

    @admin.action(description="Disable auto-authorization")
    def disable_auto_authorization(self, request, queryset):
        for customer in queryset:
            self._run(request, services.set_auto_authorization, customer, False)
        self.message_user(request, "Auto-authorization disabled.")


@admin.register(Membership)
class MembershipAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Read-only but for removal, which goes through the service (and the audit log).
    Admins are added in the console or with `manage.py create_reseller_admin`."""

    list_display = ["user", "reseller", "role", "created_at"]
    list_select_related = ["user", "reseller"]
    search_fields = ["user__username", "user__email", "reseller__name"]
    list_filter = ["role"]
    readonly_fields = ["user", "reseller", "role", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self._run(request, memberships.remove_reseller_admin, obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user", "reseller"):
            self._run(request, memberships.remove_reseller_admin, membership)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is written by the services and never edited."""

    list_display = ["at", "actor_label", "action", "object_type", "object_repr", "origin"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_repr", "origin", "action"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
