"""The primary colour: its format, its contrast (WCAG 2.1), and the shades the stylesheet
derives from it. The console shows the colour as links on the white page and as the
background of the navbar and buttons under white text, so it must reach AA's 4.5:1
against white; then white text on it reaches 4.5:1 too."""

import re

from django.core.exceptions import ValidationError

COLOUR_RE = re.compile(r"^#[0-9a-f]{6}$")
AA_CONTRAST = 4.5


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def luminance(colour: str) -> float:
    r, g, b = (_channel(v) for v in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    a, b = sorted((luminance(first), luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def darker(colour: str, factor: float = 0.8) -> str:
    """A darker shade (hover and active states)."""
    return "#" + "".join(f"{int(v * factor):02x}" for v in rgb(colour))


def clean_colour(value: str) -> str:
    """`#rrggbb` (lower case), or "" for none; ValidationError says why a colour is refused."""
    value = (value or "").strip().lower()
    if not value:
        return ""
    if not COLOUR_RE.match(value):
        raise ValidationError(
            "Enter the colour as # and six hexadecimal digits (#rrggbb), such as #0d47a1.",
            code="invalid_colour",
        )
    ratio = contrast(value, "#ffffff")
    if ratio < AA_CONTRAST:
        raise ValidationError(
            f"{value} is too light: white text on it, and links in it on the white page, "
            f"would have a contrast of {ratio:.1f}:1, and WCAG AA asks for at least 4.5:1. "
            "Choose a darker shade.",
            code="low_contrast",
        )
    return value
