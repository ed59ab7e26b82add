"""BrandMiddleware: a signed-in login's brand is read with its membership, in the one
query every console page makes for the membership anyway (brands.brand_for_user), before
the view reads the membership on its own. So showing the brand costs a page no query."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from securecloud.branding.brands import brand_for_user


class BrandMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The agent API authenticates with tokens, never with the console's session.
        if not request.path_info.startswith("/api/"):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                brand_for_user(user)
        return self.get_response(request)
