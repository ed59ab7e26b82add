import time

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
