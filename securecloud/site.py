"""The console's public address, as emails and the installer cards show it."""

from django.conf import settings

# Where `make run` serves the console; what a run without a request and without
# SITE_URL falls back to (production sets SITE_URL: `check --deploy` warns otherwise).
DEFAULT_SITE_URL = "http://127.0.0.1:8000"


def site_url(request=None) -> str:
    """The address to give people and agents, without a trailing slash.

    SITE_URL when it is set. Without it, a development run (DEBUG) answers with the
    address the request came to, so a console on another port or host shows its own;
    otherwise (production, or no request, as for the nightly reports) the default.
    The request's host is only trusted in DEBUG, where ALLOWED_HOSTS is local; in
    production the address never comes from a request's Host header.
    """
    configured = (getattr(settings, "SITE_URL", "") or "").strip()
    if configured:
        return configured.rstrip("/")
    if request is not None and settings.DEBUG:
        return request.build_absolute_uri("/").rstrip("/")
    return DEFAULT_SITE_URL
