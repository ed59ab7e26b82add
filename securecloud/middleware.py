import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

# How often a signed-in session's expiry is pushed back. Saving the session on every
# request (SESSION_SAVE_EVERY_REQUEST) costs a write per page; once a minute is enough
# for an inactivity timeout measured in hours.
SESSION_REFRESH_SECONDS = 60
_REFRESHED_AT = "refreshed_at"


class SessionRefreshMiddleware:
    """Console sessions expire after SESSION_COOKIE_AGE of inactivity: each request that
    comes more than a minute after the last refresh marks the session modified, so that
    Django saves it with a new expiry date."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        # The agent API never uses the session: not even a look at its cookie.
        if request.path.startswith("/api/"):
            return self.get_response(request)
        if session is not None and request.user.is_authenticated:
            now = int(time.time())
            if now - session.get(_REFRESHED_AT, 0) >= SESSION_REFRESH_SECONDS:
                session[_REFRESHED_AT] = now
        return self.get_response(request)


# Pages that a signed-out or not yet verified request is sent to.
_WHOLE_PAGE_REDIRECTS = ("login", "two-factor-verify", "two-factor-setup", "password_change")


class HtmxWholePageRedirectMiddleware:
    """An htmx request sent to the sign-in (or two-factor) page, say once the session ran
    out, is told to load that page as a whole (HX-Redirect), coming back afterwards to
    the page the person is on. Followed inside the request, the redirect would put the
    sign-in page into the tree or the pane."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.htmx or response.status_code not in (301, 302, 303, 307, 308):
            return response
        target = urlsplit(response["Location"]).path
        if target not in {reverse(name) for name in _WHOLE_PAGE_REDIRECTS}:
            return response
        page = request.htmx.current_url_abs_path or reverse(settings.LOGIN_REDIRECT_URL)
        return HttpResponseClientRedirect(f"{target}?{urlencode({'next': page})}")
