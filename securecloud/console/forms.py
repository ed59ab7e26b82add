"""Console forms for the organisation tree. Each takes the tenant it works in; the rules
themselves live in hierarchy.services, which the views call with the cleaned data."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from hierarchy.models import (
    ADMIN_ROLE_CHOICES,
    DEFAULT_TRIAL_DAYS,
    DEFAULT_USAGE_SPACE,
    USAGE_SPACE_CHOICES,
    Membership,
    Node,
)
from hierarchy.services import MAX_TRIAL_DAYS
from hierarchy.validators import MAX_NAME_LENGTH, format_bytes

UNLIMITED = "unlimited"


# Labels read exactly as the product words ("Name", not "Name*"): the console marks no
# field as required. Every console form needs a helper naming this template, also one
# whose page renders its fields one by one (|as_crispy_field): without a helper, crispy
# falls back to its own field template, which adds the asterisk.
FIELD_TEMPLATE = "console/crispy_field.html"


def field_helper(form: forms.Form) -> FormHelper:
    """For a form whose page owns the <form> tag and the buttons."""
    helper = FormHelper(form)
    helper.form_tag = False
    helper.field_template = FIELD_TEMPLATE
    return helper


def save_helper(form: forms.Form, label: str = "Save") -> FormHelper:
    """Every create/edit form ends with one "Save" button (or another label); the page
    owns the <form> tag."""
    helper = field_helper(form)
    helper.add_input(Submit("save", label))
    return helper


def usage_space_choices(current: int | None = DEFAULT_USAGE_SPACE) -> list[tuple[str, str]]:
    """The console's sizes; a size that came from an import is kept as an extra choice."""
    choices = [
        (UNLIMITED if size is None else str(size), label) for size, label in USAGE_SPACE_CHOICES
    ]
    if current is not None and current not in {size for size, _ in USAGE_SPACE_CHOICES}:
        choices.insert(0, (str(current), format_bytes(current)))
    return choices


def _usage_space_value(value: str) -> int | None:
    return None if value == UNLIMITED else int(value)


class CustomerForm(forms.Form):
    """Add New Customer and Edit customer. Field names follow the model and services."""

    name = forms.CharField(label="Name", max_length=MAX_NAME_LENGTH)
    contact_name = forms.CharField(label="Contact name", max_length=MAX_NAME_LENGTH, required=False)
    contact_email = forms.EmailField(label="Contact email", max_length=254)
    usage_space_bytes = forms.TypedChoiceField(
        label="Usage space",
        coerce=_usage_space_value,
        empty_value=DEFAULT_USAGE_SPACE,  # type: ignore[arg-type]
    )
    auto_add_clients = forms.BooleanField(
        label="Automatically add clients when they connect to the server", required=False
    )
    email_reports = forms.BooleanField(label="Enable Email Reports", required=False)
    trial_days = forms.IntegerField(
        label="Trial length (days)",
        min_value=1,
        max_value=MAX_TRIAL_DAYS,
        initial=DEFAULT_TRIAL_DAYS,
        help_text="New clients of this customer start as Trial for this many days.",
    )

    def __init__(self, *args, customer: Node | None = None, **kwargs):
        if customer is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": customer.name,
                    "contact_name": customer.contact_name,
                    "contact_email": customer.contact_email,
                    "usage_space_bytes": UNLIMITED
                    if customer.usage_space_bytes is None
                    else str(customer.usage_space_bytes),
                    "auto_add_clients": customer.auto_add_clients,
                    "email_reports": customer.email_reports,
                    "trial_days": customer.trial_days,
                },
            )
        super().__init__(*args, **kwargs)
        current = customer.usage_space_bytes if customer else DEFAULT_USAGE_SPACE
        self.fields["usage_space_bytes"].choices = usage_space_choices(current)  # type: ignore[attr-defined]
        if customer is None:
            self.fields["usage_space_bytes"].initial = str(DEFAULT_USAGE_SPACE)
        self.helper = save_helper(self)


class ResellerForm(forms.Form):
    """Add Sub-Reseller (and rename a reseller)."""

    name = forms.CharField(label="Name", max_length=MAX_NAME_LENGTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = save_helper(self)


class AdminForm(forms.Form):
    """Invite an admin of a reseller: an email with a link to choose a username and a
    password, and the role the admin gets."""

    email = forms.EmailField(label="Email", max_length=254)
    role = forms.ChoiceField(
        label="Role",
        choices=ADMIN_ROLE_CHOICES,
        initial=Membership.Role.ADMINISTRATOR,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = save_helper(self, "Send invitation")

    def clean(self):
        cleaned = super().clean()
        # Only an Administrator invites admins; a form sent without a role invites one
        # like itself, as the form preselects.
        cleaned["role"] = cleaned.get("role") or Membership.Role.ADMINISTRATOR
        return cleaned


class CustomerUserForm(forms.Form):
    """Invite a user of a customer: the address the invitation goes to."""

    email = forms.EmailField(label="Email", max_length=254)


class CustomerUserSettingsForm(forms.Form):
    """A reseller's settings for its customers' own logins (unticked boxes are off)."""

    customers_may_add_clients = forms.BooleanField(
        label="Customers may add clients (and reset their clients' passwords)", required=False
    )
    require_two_factor_customer_users = forms.BooleanField(
        label="Also require two-factor sign-in of customer users", required=False
    )


class RoleForm(forms.Form):
    """Another role for an admin login."""

    role = forms.ChoiceField(label="Role", choices=ADMIN_ROLE_CHOICES)


class CustomerSortForm(forms.Form):
    """The customers table's ?sort= and ?page= (bad values fall back to the defaults)."""

    SORTS = {
        "name": "name",
        "-name": "-name",
        "clients": "client_count",
        "-clients": "-client_count",
        "used": "used_bytes",
        "-used": "-used_bytes",
        "space": "usage_space_bytes",
        "-space": "-usage_space_bytes",
    }
    sort = forms.ChoiceField(choices=[(key, key) for key in SORTS], required=False)
