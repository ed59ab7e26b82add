"""Icons from the Bootstrap Icons set that the `bsicons` package ships.

One SVG sprite holds every icon the console uses, served at /icons.svg (`sprite()`),
versioned by its content and cached by the browser for a year: inline in every page it
was 16 KB of each page's HTML. `{% icon "key-fill" "Auto-authorization: on" %}` then
costs a few bytes per use (an inline <svg><use href="/icons.svg?v=…#bi-key-fill">),
which keeps long tree listings small. No style attributes: the Content-Security-Policy
forbids them. Each icon paints in the colour of its text (`.bi` in console.css: fill
currentColor, 1rem square), so that text-success, text-danger and the like colour it.
"""

import hashlib
import re
from functools import cache
from typing import Any

import bsicons
from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

# Every icon the console uses, by the name templates give it.
ICONS = (
    "building",  # reseller
    "briefcase",  # customer
    "pc-display",  # client
    "lock-fill",  # auto-authorization on (the key icon, locked)
    "unlock",  # auto-authorization off
    "key-fill",
    "hourglass-split",  # trial
    "star-fill",  # paid
    "slash-circle",  # disabled
    "envelope-check",
    "envelope-check-fill",  # email reports on (filled, green)
    "envelope-slash",  # email reports off (outlined, grey)
    "exclamation-triangle-fill",
    "check-circle-fill",
    "x-circle-fill",
    "caret-right-fill",
    "caret-down-fill",
    "search",
    "plus-lg",
    "pencil",
    "trash",
    "arrow-repeat",
    "clipboard",
    "people",
    "box-arrow-right",
    "info-circle",  # the legend
    "arrows-move",  # move a client
    "clock-history",  # no successful backup lately
    "person-plus",  # add an admin
    "person-dash",  # remove an admin
    "calendar-plus",  # extend a trial
    "diagram-3",  # sub-reseller
    "palette",  # branding
    "bar-chart",  # usage charts
    "hourglass-bottom",  # trial expired
    "bell",  # webhooks and alerts
    "hourglass-top",  # pending approval
)

_PATHS_RE = re.compile(r"<svg[^>]*>(.*)</svg>", re.S)


@cache
def _symbol(name: str) -> str:
    with open(bsicons.get_icon_path(name), encoding="utf-8") as handle:
        inner = _PATHS_RE.search(handle.read()).group(1).strip()  # type: ignore[union-attr]
    return f'<symbol id="bi-{name}" viewBox="0 0 16 16">{inner}</symbol>'


@cache
def sprite() -> str:
    """The sprite document: one <symbol> per icon, built only from the package's files."""
    symbols = "".join(_symbol(name) for name in ICONS)
    return f'<svg xmlns="http://www.w3.org/2000/svg">{symbols}</svg>'


@cache
def sprite_version() -> str:
    return hashlib.sha256(sprite().encode()).hexdigest()[:10]


@cache
def _sprite_href() -> str:
    return f"{reverse('icon-sprite')}?v={sprite_version()}"


@register.simple_tag
def icon(name: str, label: str = "", css_class: str = "") -> SafeString:
    """An icon; with a label it is an image with that accessible name, else decorative."""
    return _icon(name, label, css_class)


@cache
def _icon(name: str, label: str, css_class: str) -> SafeString:
    # Cached: the same few dozen icons fill a tree of a hundred items on every page.
    if name not in ICONS:
        raise template.TemplateSyntaxError(f"Unknown icon {name!r}: add it to ICONS.")
    classes = f"bi {css_class}".strip()
    if label:
        return format_html(
            '<svg class="{}" role="img" aria-label="{}">'
            '<title>{}</title><use href="{}#bi-{}"></use></svg>',
            classes,
            label,
            label,
            _sprite_href(),
            name,
        )
    return format_html(
        '<svg class="{}" aria-hidden="true"><use href="{}#bi-{}"></use></svg>',
        classes,
        _sprite_href(),
        name,
    )


@register.simple_tag
def state_icons(obj: Any) -> SafeString:
    """The icons after a tree item's name: a client's plan (Paid
    or Trial) and Disabled or Expired; a customer's key (auto-authorization on or off).
    A tag rather than an included template: a tree of a hundred items drew it a hundred
    times on every page."""
    if getattr(obj, "securecloud_id", None):
        icons = [
            _icon("star-fill", "Paid", "text-primary")
            if obj.plan == "paid"
            else _icon("hourglass-split", "Trial", "text-warning-emphasis")
        ]
        shown = obj.shown_status()
        if shown == "disabled":
            icons.append(_icon("slash-circle", "Disabled", "text-danger"))
        elif shown == "expired":
            icons.append(_icon("hourglass-bottom", "Expired", "text-danger"))
        return SafeString("".join(icons))
    if getattr(obj, "kind", None) == "customer":
        if obj.auto_add_clients:
            return _icon("lock-fill", "Auto-authorization: on", "text-success")
        return _icon("unlock", "Auto-authorization: off", "text-secondary")
    return SafeString("")
