"""The Branding page's form. Every field is optional: blank inherits the value of the
reseller above (each field's help says which value, and from where). The rules live in
securecloud.branding.services (the text settings) and securecloud.branding.logos (the
logo); this form only reads the upload within its size limit."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from securecloud.branding import logos
from securecloud.branding.brands import DEFAULT_BRAND, Brand
from securecloud.branding.models import Branding
from securecloud.branding.services import EDITABLE, MAX_PRODUCT_NAME, MAX_SENDER_NAME
from securecloud.console.forms import save_helper

HELP = {
    "product_name": "Shown instead of SecureCloud in the console and in emails.",
    "primary_colour": "#rrggbb: the navbar, buttons and links. White text must be readable "
    "on it (WCAG AA, 4.5:1).",
    "logo": "PNG or JPEG, at most 512 KB and 1024 x 1024 pixels.",
    "support_email": "Shown in the console's footer and in emails.",
    "support_url": "Shown in the console's footer and in emails.",
    "sender_name": "The name in the From line of emails (the address stays the console's).",
    "console_host": "A host name such as backup.heroware.example: the sign-in page reached "
    "through it shows this brand. Not inherited.",
}


def inherited_help(name: str, parent: Brand) -> str:
    """What a blank field gives: the value of the reseller above, or the default."""
    source = parent.sources.get(name)
    if name == "logo":
        shown = "its logo" if source else "no logo"
    elif name == "product_name":
        shown = parent.product_name
    else:
        shown = getattr(parent, name) or "none"
    if source is None:
        return f"Blank: the default ({shown})."
    return f"Blank: inherits {shown} from {source.name}."


class BrandingForm(forms.Form):
    product_name = forms.CharField(
        label="Product name", required=False, max_length=MAX_PRODUCT_NAME
    )
    primary_colour = forms.CharField(
        label="Primary colour",
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"placeholder": "#rrggbb", "spellcheck": "false"}),
    )
    logo = forms.FileField(
        label="Logo",
        required=False,
        error_messages={
            "empty": "The file is empty. The current logo is unchanged.",
            "invalid": "No file was sent. The current logo is unchanged.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(label="Remove this reseller's own logo", required=False)
    support_email = forms.CharField(label="Support email", required=False, max_length=254)
    support_url = forms.CharField(label="Support URL", required=False, max_length=300)
    sender_name = forms.CharField(
        label="Email sender name", required=False, max_length=MAX_SENDER_NAME
    )
    console_host = forms.CharField(label="Console address", required=False, max_length=253)

    def __init__(
        self, *args: Any, row: Branding, parent: Brand = DEFAULT_BRAND, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {name: getattr(row, name) for name in EDITABLE})
        super().__init__(*args, **kwargs)
        self.logo_read: logos.Logo | None = None
        self.fields["logo"].widget = forms.FileInput(attrs={"accept": "image/png,image/jpeg"})
        if not row.logo:
            del self.fields["remove_logo"]
        for name, field in self.fields.items():
            base = HELP.get(name, "")
            if name in ("console_host", "remove_logo"):
                field.help_text = base
            else:
                field.help_text = f"{base} {inherited_help(name, parent)}".strip()
        self.helper = save_helper(self)

    def clean_logo(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("logo")
        if upload is None:
            return None
        if (upload.size or 0) > logos.MAX_BYTES:
            raise ValidationError(
                f"The file is {(upload.size or 0) // 1024} KB; a logo may be at most 512 KB. "
                "The current logo is unchanged.",
                code="too_large",
            )
        self.logo_read = logos.clean_logo(upload.read())
        return upload

    def values(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in EDITABLE}
