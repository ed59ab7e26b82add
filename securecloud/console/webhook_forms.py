"""The forms of the Webhooks page and of an admin's email alerts."""

from typing import Any

from django import forms

from clients.models import Event
from securecloud.console.forms import save_helper
from securecloud.events.webhooks import MAX_SECRET_LENGTH, MIN_SECRET_LENGTH

EVENT_CHOICES = [(value, f"{value} ({label})") for value, label in Event.Type.choices]


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="https:// only; the host must be on the internet, not an internal address.",
    )
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=EVENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    secret = forms.CharField(
        label="Secret",
        min_length=MIN_SECRET_LENGTH,
        max_length=MAX_SECRET_LENGTH,
        widget=forms.PasswordInput(render_value=False),
        help_text=(
            "Signs each delivery (X-SecureCloud-Signature: sha256=HMAC of the body). It is "
            "not shown again after saving."
        ),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["secret"].required = False
            self.fields["secret"].label = "New secret"
            self.fields["secret"].help_text = "Leave empty to keep the current secret."
            self.fields["enabled"] = forms.BooleanField(label="On", required=False)
        self.helper = save_helper(self, "Save" if editing else "Add webhook")


class AlertsForm(forms.Form):
    event_types = forms.MultipleChoiceField(
        label="Email me about",
        choices=EVENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = save_helper(self)
