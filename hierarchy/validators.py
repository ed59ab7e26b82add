"""Parsing and formatting rules shared by the console forms, the imports and the API."""

import re
import unicodedata
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


# Line breaks, tabs, the C0 and C1 controls and lone surrogates (neither database
# stores those).
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Characters that change how the text around them shows: the direction marks,
# embeddings, overrides and isolates (U+202E shows what follows it backwards, in every
# list the text appears in), and invisible characters that have no use in a name or an
# address but to make two that look the same differ: zero width space, word joiner, the
# invisible math operators, the deprecated shaping controls, the byte order mark and the
# interlinear annotation marks (which hide the text between them). Zero width joiner
# and non-joiner are not here: emoji sequences and Persian or Indic names need them.
_INVISIBLE_RE = re.compile(
    "[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u200b\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb]"
)
# Letters and symbols that draw nothing: the Hangul fillers and the blank braille
# pattern, popular for names that look empty.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Tag characters spell out the region of an emoji flag (England, Scotland, Wales) and
# end with U+E007F: a name may end with one.
_TAG_CHARACTERS = range(0xE0020, 0xE0080)
# Categories of characters that draw nothing on their own.
_NOT_DRAWN_ALONE = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Mc", "Me"})


# Joiners keep their use inside emoji sequences and Persian or Indic words.
_JOINERS = frozenset("\u200c\u200d")
_BLACK_FLAG = "\U0001f3f4"  # what tag characters follow in an emoji flag
_COMBINING_GRAPHEME_JOINER = "\u034f"  # a mark that draws nothing


def has_invisible_characters(value: str) -> bool:
    """Direction controls or characters that draw nothing and join nothing, anywhere in
    `value`: with one, two names that look the same differ. Every format character
    counts (soft hyphen, Mongolian vowel separator, the tags...) but the joiners and the
    tags of an emoji flag; so do the blank letters and the combining grapheme joiner."""
    if _INVISIBLE_RE.search(value):
        return True
    previous = ""
    for ch in value:
        if ch in _BLANK_LETTERS or ch == _COMBINING_GRAPHEME_JOINER:
            return True
        if unicodedata.category(ch) == "Cf" and ch not in _JOINERS:
            in_flag = ord(ch) in _TAG_CHARACTERS and (
                previous == _BLACK_FLAG or (previous and ord(previous) in _TAG_CHARACTERS)
            )
            if not in_flag:
                return True
        previous = ch
    return False


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
        # The domain may be internationalised, and the IDNA check lets a direction
        # override or a zero width space through; no real address holds one.
        if _INVISIBLE_RE.search(value):
            raise ValidationError("invisible characters")
    except ValidationError:
        raise ValidationError("Enter a valid email address.", code="invalid") from None
    return value


MAX_NAME_LENGTH = 200

NAME_CONTROL_CHARACTERS = "A name cannot contain control characters."
NAME_INVISIBLE_CHARACTERS = "A name cannot contain invisible or text-direction control characters."
NAME_INVISIBLE_EDGE = "A name cannot start or end with an invisible character."
NAME_NOT_VISIBLE = "Enter a name with visible characters."


def _is_visible(ch: str) -> bool:
    """A character that draws something on its own: not a space, a control or format
    character, nor a mark that only changes the character before it. Code points this
    Python's Unicode tables do not know count as visible: they are newer letters and
    emoji more often than anything else."""
    return unicodedata.category(ch) not in _NOT_DRAWN_ALONE and ch not in _BLANK_LETTERS


def _is_invisible_end(ch: str) -> bool:
    """A last character that shows nothing: a format character (other than the tags
    that end an emoji flag) or a blank letter. Combining marks and variation selectors
    belong to the character before them, so a name may end with one."""
    if ch in _BLANK_LETTERS:
        return True
    return unicodedata.category(ch) == "Cf" and ord(ch) not in _TAG_CHARACTERS


def clean_name(value: str, *, field: str = "name", required: bool = True) -> str:
    """A trimmed display name (resellers, customers, contacts, clients): at most 200
    characters that show as written. No control characters or line breaks, nothing that
    changes the text's direction, at least one visible character, and no invisible
    character at either end; empty only when not required."""
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationError({field: "Enter a name."}, code="required")
        return value
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationError(
            {field: f"A name has at most {MAX_NAME_LENGTH} characters."}, code="max_length"
        )
    if _CONTROL_RE.search(value):
        raise ValidationError({field: NAME_CONTROL_CHARACTERS}, code="control_characters")
    if value.isascii():
        return value  # stripped and free of controls: every character shows
    if not any(_is_visible(ch) for ch in value):
        raise ValidationError({field: NAME_NOT_VISIBLE}, code="not_visible")
    if has_invisible_characters(value):
        raise ValidationError({field: NAME_INVISIBLE_CHARACTERS}, code="invisible_characters")
    if not _is_visible(value[0]) or _is_invisible_end(value[-1]):
        raise ValidationError({field: NAME_INVISIBLE_EDGE}, code="invisible_edge")
    return value


NAME_ADDRESS_CHARACTERS = (
    "A reseller's name is the sender name of its emails: it cannot contain <, > or @."
)


def _is_address_character(ch: str) -> bool:
    """<, > or @, or a look-alike that compatibility normalisation makes one of them
    (the full-width and small forms)."""
    return any(c in "<>@" for c in unicodedata.normalize("NFKC", ch))


def has_address_characters(value: str) -> bool:
    """Whether `value` holds a character that would make a sender name read as an
    address (or carry one) in the From line of an email."""
    return any(_is_address_character(ch) for ch in value)


def without_address_characters(value: str) -> str:
    """`value` with every <, > and @ (and look-alike) left out, spaces collapsed."""
    kept = "".join(" " if _is_address_character(ch) else ch for ch in value)
    return " ".join(kept.split())


def clean_reseller_name(value: str, *, field: str = "name") -> str:
    """A reseller's name: a name (clean_name) that is also the sender name of the
    reseller's emails, so nothing in it may read as an email address."""
    value = clean_name(value, field=field)
    if has_address_characters(value):
        raise ValidationError({field: NAME_ADDRESS_CHARACTERS}, code="address_characters")
    return value
