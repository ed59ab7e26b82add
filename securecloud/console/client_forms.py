"""Console forms for client accounts. Each takes the customer (or the admin's subtree) it
works in; the rules live in clients.services, which the forms and views call."""

from django import forms
from django.core.exceptions import ValidationError

from clients import services
from clients.services import MAX_TRIAL_EXTENSION_DAYS
from hierarchy.models import Node
from securecloud.console.forms import field_helper, save_helper

PASSWORDS_DIFFER = "The two passwords do not match."
# The password's help text says its rules. That a password is needed at all the page
# already says in its notice (and the field in its error): never a third time here.
PASSWORD_RULES = "At least 8 characters, with no space at the start or end."


class PasswordPairMixin:
    """A password and its confirmation, which must match."""

    def clean(self):
        cleaned = super().clean()
        password, password2 = cleaned.get("password"), cleaned.get("password2")
        if (password or password2) and password != password2:
            self.add_error("password2", PASSWORDS_DIFFER)
        return cleaned


class NewClientForm(PasswordPairMixin, forms.Form):
    securecloud_id = forms.CharField(
        label="SecureCloud ID",
        max_length=254,
        help_text="Use the client's email address, so that it is unique. The client enters "
        "this ID when installing SecureCloud on their machine.",
    )
    name = forms.CharField(label="Name", max_length=200, required=False)
    email = forms.EmailField(label="Email", required=False, max_length=254)
    password = forms.CharField(
        label="Password",
        strip=False,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    password2 = forms.CharField(
        label="Password (again)",
        strip=False,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )

    def __init__(self, *args, customer: Node, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.password_required = not customer.auto_add_clients
        # The page's notice, in the product's words; the service's error says the same.
        self.password_notice = services.PASSWORD_REQUIRED if self.password_required else ""
        for field in ("password", "password2"):
            self.fields[field].widget.attrs["autocomplete"] = "new-password"
            if self.password_required:
                # Required here, though not by the field itself: tell assistive technology.
                self.fields[field].widget.attrs["required"] = True
        if self.password_required:
            self.fields["password"].help_text = (
                f"{PASSWORD_RULES} The client enters it with the SecureCloud ID when "
                "installing SecureCloud."
            )
        else:
            self.fields["password"].help_text = (
                "Optional: with auto-authorization on, the client sets it at its first "
                f"connect. {PASSWORD_RULES}"
            )
        self.helper = save_helper(self)

    def clean(self):
        cleaned = super().clean()
        # The service's rules run even when a field already has an error, so that every
        # problem shows at once; a field with an error of its own keeps only that one.
        try:
            checked = services.clean_new_client(
                self.customer,
                securecloud_id=cleaned.get("securecloud_id", ""),
                password=cleaned.get("password") or None,
                name=cleaned.get("name", ""),
                email=cleaned.get("email", ""),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field in self.errors:
                    continue
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        else:
            if not self.errors:
                cleaned.update(checked)
        return cleaned


class EditClientForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, required=False)
    email = forms.EmailField(label="Email", required=False, max_length=254)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = save_helper(self)


class ExtendTrialForm(forms.Form):
    days = forms.IntegerField(
        label="Extend trial by (days)", min_value=1, max_value=MAX_TRIAL_EXTENSION_DAYS, initial=30
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = field_helper(self)


class ResetPasswordForm(PasswordPairMixin, forms.Form):
    password = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="New password (again)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = field_helper(self)


class MoveClientForm(forms.Form):
    """Move to another customer: the choices are the customers of the admin's subtree."""

    customer = forms.ModelChoiceField(
        label="Move to customer",
        queryset=Node.objects.none(),
        to_field_name="code",
        empty_label=None,
        error_messages={
            "required": "Choose the customer to move it to.",
            "invalid_choice": "Choose one of the customers listed.",
        },
    )

    def __init__(self, *args, customers, current: Node, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers.exclude(pk=current.pk).order_by("name")  # type: ignore[attr-defined]


class DeleteClientForm(forms.Form):
    securecloud_id = forms.CharField(label="Type the SecureCloud ID to confirm", max_length=254)

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.helper = field_helper(self)

    def clean_securecloud_id(self):
        typed = self.cleaned_data["securecloud_id"].strip().lower()
        if typed != self.client.securecloud_id:
            raise ValidationError("This is not the client's SecureCloud ID.", code="mismatch")
        return typed
