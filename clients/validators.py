import re
import unicodedata

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


PASSWORD_ONLY_SPACES = "A password cannot be only spaces."
PASSWORD_EDGE_SPACE = "Passwords cannot start or end with a space."
PASSWORD_CONTROL = (
    "A client password cannot contain control characters (such as a null character or a "
    "line break)."
)


def validate_client_password(password: str) -> None:
    """A password the console, an import or an agent sets for a client: 8 to 128
    characters, no control character (a null character, a tab, a line break: nothing an
    installer's password field can take), and no space (or other white space) at the
    start or end, which nobody sees when it is pasted and everybody forgets when typing
    it again.

    Checking a password that is already stored must not use this: older imports and
    hashes from elsewhere may hold passwords that break today's rules.
    """
    if len(password) < 8:
        raise ValidationError(
            "A client password has at least 8 characters.", code="password_too_short"
        )
    if len(password) > 128:
        raise ValidationError(
            "A client password has at most 128 characters.", code="password_too_long"
        )
    if password.isspace():
        raise ValidationError(PASSWORD_ONLY_SPACES, code="password_only_spaces")
    if password != password.strip():
        raise ValidationError(PASSWORD_EDGE_SPACE, code="password_edge_space")
    if any(unicodedata.category(character) == "Cc" for character in password):
        raise ValidationError(PASSWORD_CONTROL, code="password_control_character")
