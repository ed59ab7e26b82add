"""Icons from the Bootstrap Icons set that the `bsicons` package ships.

`{% icon_sprite %}` puts one hidden SVG sprite with every icon the console uses at the
top of the page; `{% icon "key-fill" "Auto-authorization: on" %}` then costs a few
bytes per use (an inline <svg><use>), which keeps long tree listings small. No style
attributes: the Content-Security-Policy forbids them. Each icon paints in the colour of
its text (fill="currentColor", as on the package's own <svg>, which the sprite leaves
out), so that text-success, text-danger and the like colour it.
"""

import re
from functools import cache

import bsicons
from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

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
def _sprite() -> str:
    symbols = "".join(_symbol(name) for name in ICONS)
    return f'<svg xmlns="http://www.w3.org/2000/svg" class="d-none">{symbols}</svg>'


@register.simple_tag
def icon_sprite():
    return mark_safe(_sprite())  # built only from the package's own files


@register.simple_tag
def icon(name: str, label: str = "", css_class: str = ""):
    """An icon; with a label it is an image with that accessible name, else decorative."""
    if name not in ICONS:
        raise template.TemplateSyntaxError(f"Unknown icon {name!r}: add it to ICONS.")
    classes = f"bi {css_class}".strip()
    if label:
        return format_html(
            '<svg class="{}" width="16" height="16" fill="currentColor" role="img"'
            ' aria-label="{}">'
            '<title>{}</title><use href="#bi-{}"></use></svg>',
            classes,
            label,
            label,
            name,
        )
    return format_html(
        '<svg class="{}" width="16" height="16" fill="currentColor" aria-hidden="true"'
        ' focusable="false">'
        '<use href="#bi-{}"></use></svg>',
        classes,
        name,
    )
