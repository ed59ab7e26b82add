"""Every write to a reseller's branding: `set_branding`, used alike by the console's
Branding page and the `set_branding` command. It validates each value, writes in one
transaction and records one audit event with what changed. A logo is re-encoded
(securecloud.branding.logos) before this is called; its file goes to Django's default
storage, and the file it replaces is deleted once the change is committed."""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction

from hierarchy import audit
from hierarchy.models import Node
from hierarchy.validators import clean_email_address, clean_name, has_address_characters
from securecloud.branding.colours import clean_colour
from securecloud.branding.logos import Logo
from securecloud.branding.models import Branding

EDITABLE = (
    "product_name",
    "primary_colour",
    "support_email",
    "support_url",
    "sender_name",
    "console_host",
)
MAX_PRODUCT_NAME = 60
MAX_SENDER_NAME = 100
_HOST_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def clean_product_name(value: str) -> str:
    value = clean_name(value, field="product_name", required=False)
    if len(value) > MAX_PRODUCT_NAME:
        raise ValidationError(
            {"product_name": f"A product name has at most {MAX_PRODUCT_NAME} characters."}
        )
    return value


def clean_sender_name(value: str) -> str:
    value = clean_name(value, field="sender_name", required=False)
    if len(value) > MAX_SENDER_NAME:
        raise ValidationError(
            {"sender_name": f"A sender name has at most {MAX_SENDER_NAME} characters."}
        )
    if has_address_characters(value):
        raise ValidationError(
            {
                "sender_name": "The sender name cannot contain <, > or @ (it would read as an "
                "address): the address stays the console's own."
            }
        )
    return value


def clean_support_email(value: str) -> str:
    value = (value or "").strip()
    return clean_email_address(value) if value else ""


def clean_support_url(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ValidationError(
            "Enter a full web address starting with https:// (or http://).", code="invalid"
        ) from None
    if len(value) > 300:
        raise ValidationError("A support URL has at most 300 characters.", code="max_length")
    return value


def clean_console_host(value: str) -> str:
    """A host name such as backup.heroware.example: letters, digits and hyphens in
    dot-separated labels, at least two labels, no port, no IP address."""
    value = (value or "").strip().lower().rstrip(".")
    if not value:
        return ""
    message = "Enter a host name such as backup.heroware.example (no https://, no port, no path)."
    labels = value.split(".")
    if (
        len(value) > 253
        or len(labels) < 2
        or not all(_HOST_LABEL_RE.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError(message, code="invalid_host")
    return value


CLEANERS = {
    "product_name": clean_product_name,
    "primary_colour": clean_colour,
    "support_email": clean_support_email,
    "support_url": clean_support_url,
    "sender_name": clean_sender_name,
    "console_host": clean_console_host,
}


def clean_values(values: dict[str, str]) -> dict[str, str]:
    """Each value cleaned; ValidationError maps every refused setting to its message."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(f"Not a branding setting: {', '.join(sorted(unknown))}")
    cleaned: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        try:
            cleaned[name] = CLEANERS[name](value)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def branding_of(reseller: Node) -> Branding:
    """The reseller's own branding row (unsaved and blank when it sets nothing)."""
    row = Branding.objects.filter(reseller=reseller).first()
    return row if row is not None else Branding(reseller=reseller)


def _store_logo(reseller: Node, logo: Logo) -> str:
    name = f"branding/{reseller.code}/logo-{logo.digest[:16]}.{logo.extension}"
    return default_storage.save(name, ContentFile(logo.data))


def _delete_file(name: str) -> None:
    if name:
        default_storage.delete(name)


def set_branding(
    reseller: Node,
    *,
    acting_user: Any,
    origin: str,
    logo: Logo | None = None,
    remove_logo: bool = False,
    **values: str,
) -> Branding:
    """Set the given settings of `reseller`'s brand ("" clears one: it inherits again);
    settings not given stay as they are. `logo`: a re-encoded logo to put in place;
    `remove_logo`: go back to the inherited logo. ValidationError names each refused
    setting; nothing is written then, and the current logo stays in place."""
    audit.check_origin(origin)
    if not reseller.is_reseller:
        raise ValidationError("Branding is set on a reseller.", code="not_reseller")
    cleaned = clean_values(values)
    new_file = _store_logo(reseller, logo) if logo is not None else ""
    try:
        with transaction.atomic():
            Node.objects.select_for_update().filter(pk=reseller.pk).first()
            row = Branding.objects.select_for_update().filter(reseller=reseller).first()
            row = row if row is not None else Branding(reseller=reseller)
            host = cleaned.get("console_host")
            if host and Branding.objects.filter(console_host=host).exclude(pk=row.pk).exists():
                raise ValidationError(
                    {"console_host": "Another reseller already uses this console address."}
                )
            before = audit.snapshot(row, [*EDITABLE, "logo_digest"])
            old_file = row.logo
            for name, value in cleaned.items():
                setattr(row, name, value)
            if logo is not None:
                row.logo, row.logo_type, row.logo_digest = new_file, logo.content_type, logo.digest
            elif remove_logo:
                row.logo, row.logo_type, row.logo_digest = "", "", ""
            after = audit.snapshot(row, [*EDITABLE, "logo_digest"])
            changes = audit.changes_between(before, after)
            if not changes:
                if new_file:
                    _delete_file(new_file)
                return row
            row.save()
            audit.record(
                "branding.update",
                reseller,
                acting_user=acting_user,
                origin=origin,
                changes=changes,
            )
            if old_file and old_file != row.logo:
                transaction.on_commit(lambda: _delete_file(old_file))
    except IntegrityError:
        _delete_file(new_file)
        raise ValidationError(
            {"console_host": "Another reseller already uses this console address."}
        ) from None
    except BaseException:
        _delete_file(new_file)
        raise
    return row
