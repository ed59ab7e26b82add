"""`brand`: the brand every page shows (securecloud.branding.brands)."""

from typing import Any

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from securecloud.branding.brands import DEFAULT_BRAND, Brand, brand_for_host, brand_for_user


def brand_of_request(request: HttpRequest) -> Brand:
    """A signed-in login's own brand; before sign-in, the brand of the console address
    the page was reached through (the default for any other address)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return brand_for_user(user)
    try:
        host = request.get_host()
    except DisallowedHost:
        return DEFAULT_BRAND
    return brand_for_host(host)


def brand(request: HttpRequest) -> dict[str, Any]:
    """Read only when a template asks for it (a partial that shows no brand costs nothing)."""
    return {"brand": SimpleLazyObject(lambda: brand_of_request(request))}
