from django import forms


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=20,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class AcceptInvitationForm(forms.Form):
    """The invitee's new login: a username and a password (typed twice). The password
    rules (Django's validators) are the service's to apply, with the username."""

    username = forms.CharField(
        label="Username", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password2") != cleaned["password1"]:
            self.add_error("password2", "The two passwords differ.")
        return cleaned
