"""Formatting filters of the console pages: {% load console_format %}."""

from django import template

from hierarchy.validators import format_bytes
from securecloud.console import shell

register = template.Library()


@register.filter
def size(value: int | None) -> str:
    """Bytes in the console's decimal units: 10 GB, 1.5 TB, 750 MB ("Unlimited" for None)."""
    return format_bytes(value)


@register.filter
def meter_high(limit: int | None) -> int | None:
    """The <meter> "high" mark: 90 % of a usage space."""
    return None if limit is None else limit * 9 // 10


@register.filter
def pane_url(obj) -> str:
    """The console page of a reseller, customer or client."""
    return shell.pane_url(obj)
