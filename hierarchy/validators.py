"""Parsing and formatting rules shared by the console forms, the imports and the API."""

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

_UNITS = {"MB": 10**6, "GB": 10**9, "TB": 10**12}
_USAGE_SPACE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]{2})\s*$")
_BOOL_WORDS = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}


def parse_usage_space(text: str) -> int | None:
    """'50GB', '1.5 TB', '500 mb' → bytes (decimal units); 'unlimited' → None."""
    if not isinstance(text, str):
        raise ValidationError("Usage space must be text.", code="invalid_usage_space")
    if text.strip().lower() == "unlimited":
        return None
    match = _USAGE_SPACE_RE.match(text)
    if not match or match.group(2).upper() not in _UNITS:
        raise ValidationError(
            "Enter a size such as 50GB, 1.5 TB or 500 MB, or 'unlimited'.",
            code="invalid_usage_space",
        )
    try:
        number = Decimal(match.group(1))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise ValidationError("Enter a number.", code="invalid_usage_space") from exc
    size = int(number * _UNITS[match.group(2).upper()])
    if size <= 0:
        raise ValidationError("Usage space must be more than zero.", code="invalid_usage_space")
    if size > 2**63 - 1:
        raise ValidationError("Usage space is too large.", code="invalid_usage_space")
    return size


def format_bytes(size: int | None) -> str:
    """Decimal units, as the console offers them: 10 GB, 1 TB, 1.5 TB, 750 MB."""
    if size is None:
        return "Unlimited"
    for unit, factor in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            value = Decimal(size) / factor
            text = f"{value:.2f}".rstrip("0").rstrip(".")
            return f"{text} {unit}"
    return f"{size} B"


def format_usage_space(size: int | None) -> str:
    """The export form of a usage space: parse_usage_space(format_usage_space(x)) == x."""
    if size is None:
        return "unlimited"
    for unit, factor in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    # Not a whole number of megabytes: write it exactly in MB with decimals.
    return f"{Decimal(size) / 10**6}MB"


def parse_bool(text: str) -> bool:
    try:
        return _BOOL_WORDS[str(text).strip().lower()]
    except KeyError:
        raise ValidationError(
            "Enter yes/no, true/false, 1/0 or y/n.", code="invalid_boolean"
        ) from None


MAX_EMAIL_LENGTH = 254  # RFC 5321's limit, and the columns' width


def clean_email_address(value: str) -> str:
    """A trimmed email address, or a ValidationError fit for a form or an import line."""
    value = (value or "").strip()
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValidationError(
            f"An email address has at most {MAX_EMAIL_LENGTH} characters.", code="max_length"
        )
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError("Enter a valid email address.", code="invalid") from None
    return value


MAX_NAME_LENGTH = 200


def clean_name(value: str, *, field: str = "name", required: bool = True) -> str:
    """A trimmed display name (resellers, customers, contacts, clients): at most 200
    characters, no control characters; empty only when not required."""
    value = (value or "").strip()
    if not value and required:
        raise ValidationError({field: "Enter a name."}, code="required")
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationError(
            {field: f"A name has at most {MAX_NAME_LENGTH} characters."}, code="max_length"
        )
    if any(ord(ch) < 32 for ch in value):
        raise ValidationError({field: "A name cannot contain control characters."})
    return value
