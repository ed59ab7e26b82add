import re

from django.core.exceptions import ValidationError

# An email address, or a name of letters, digits and . _ - @ +
_SECURECLOUD_ID_RE = re.compile(r"[a-z0-9._\-@+]{3,254}")


def normalise_securecloud_id(value: str) -> str:
    """Trim and lower-case a SecureCloud ID, then check its form.

    Raises ValidationError with a message fit for a form or an import line.
    """
    if not isinstance(value, str):
        raise ValidationError("Enter a SecureCloud ID.", code="required")
    normalised = value.strip().lower()
    if not normalised:
        raise ValidationError("Enter a SecureCloud ID.", code="required")
    if len(normalised) < 3 or len(normalised) > 254:
        raise ValidationError(
            "A SecureCloud ID is 3 to 254 characters long.", code="invalid_securecloud_id"
        )
    if not _SECURECLOUD_ID_RE.fullmatch(normalised):
        raise ValidationError(
            "Use an email address, or letters, digits and . _ - @ + only.",
            code="invalid_securecloud_id",
        )
    return normalised


def validate_client_password(password: str) -> None:
    """Client (agent) passwords: at least 8 characters, at most 128."""
    if len(password) < 8:
        raise ValidationError(
            "A client password has at least 8 characters.", code="password_too_short"
        )
    if len(password) > 128:
        raise ValidationError(
            "A client password has at most 128 characters.", code="password_too_long"
        )
