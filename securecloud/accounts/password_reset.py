"""Password reset by email ("Forgot your password?" on the sign-in page).

The page answers the same whatever was asked: an address of a login or not, a request
over its limit or not. Asking only counts the request and queues it (the task
`send_password_reset` below); the worker looks the address up and talks to the
mail server. So with the database queue (TASKS_BACKEND=database) the answer also takes
as long for a known address as for an unknown one.

Each address asked for, and each client address asking, gets a few requests per window;
one over the limit sends nothing. The counts are rows in the database (RateLimitHit), so
every server process shares them. The limits are settings read at call time (tests lower
them): PASSWORD_RESET_MAX_PER_EMAIL (3), PASSWORD_RESET_MAX_PER_IP (10),
PASSWORD_RESET_LIMIT_WINDOW seconds (900).
"""

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.db.models import Count
from django.utils import timezone
from django_tasks import task

from hierarchy.models import reseller_of
from securecloud import site
from securecloud.accounts.models import RateLimitHit
from securecloud.branding.brands import brand_for_user
from securecloud.branding.senders import sender_of
from securecloud.http import limit_address

logger = logging.getLogger(__name__)

DEFAULT_MAX_PER_EMAIL = 3
DEFAULT_MAX_PER_IP = 10
DEFAULT_WINDOW_SECONDS = 15 * 60


def max_per_email() -> int:
    return getattr(settings, "PASSWORD_RESET_MAX_PER_EMAIL", DEFAULT_MAX_PER_EMAIL)


def max_per_ip() -> int:
    return getattr(settings, "PASSWORD_RESET_MAX_PER_IP", DEFAULT_MAX_PER_IP)


def window() -> timedelta:
    return timedelta(
        seconds=getattr(settings, "PASSWORD_RESET_LIMIT_WINDOW", DEFAULT_WINDOW_SECONDS)
    )


def email_key(email: str) -> str:
    # A digest: the table does not keep the addresses people typed.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"reset-email:{digest}"


def ip_key(ip: str) -> str:
    return f"reset-ip:{limit_address(ip)}"[:300]  # an IPv6 address counts as its /64


def allow(email: str, ip: str, now: datetime | None = None) -> bool:
    """Count a request for `email` from `ip`: True when both are within their limits.

    The request is written before the counts are read, so of requests racing in other
    processes at most the limit see themselves within it; one over the limit takes its
    rows back, so that refused requests do not keep the limit on.
    """
    now = now or timezone.now()
    limits = {email_key(email): max_per_email(), ip_key(ip): max_per_ip()}
    hits = RateLimitHit.objects.bulk_create(
        [RateLimitHit(key=key, created_at=now) for key in limits]
    )
    counts = dict(
        RateLimitHit.objects.filter(key__in=list(limits), created_at__gt=now - window())
        .values_list("key")
        .annotate(n=Count("id"))
        .order_by()
    )
    if any(counts.get(key, 0) > limit for key, limit in limits.items()):
        RateLimitHit.objects.filter(pk__in=[hit.pk for hit in hits]).delete()
        return False
    RateLimitHit.objects.filter(created_at__lte=now - window()).delete()
    return True


def request_reset(email: str, ip: str, *, site_url: str = "") -> None:
    """Queue a reset email to the logins with `email`, unless a limit says no. Never
    raises and returns nothing: the page says the same in every case. `site_url`: the
    address the request came to (securecloud.site), which the link is built from."""
    if not allow(email, ip):
        logger.info("Password reset for an address refused: over the limit (from %s)", ip)
        return
    try:
        # The worker reads SITE_URL itself: only a request's own address travels along.
        if site_url and site_url != site.site_url():
            send_password_reset.enqueue(email, site_url=site_url)
        else:
            send_password_reset.enqueue(email)
    except Exception:
        logger.exception("Could not queue a password reset email")


class BrandedPasswordResetForm(PasswordResetForm):
    """Django's reset form, each email in the brand of its login's reseller (its
    product name, support contact and sender name)."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user = context["user"]
        brand = brand_for_user(user)
        context = {**context, "brand": brand}
        reseller = reseller_of(user)
        if reseller is not None:
            from_email = sender_of(reseller)
        super().send_mail(
            subject_template_name,
            email_template_name,
            context,
            from_email,
            to_email,
            html_email_template_name,
        )


def send_reset_links(email: str, *, site_url: str = "") -> None:
    """Email each active login with this address a link to set a new password (Django's
    reset token: it works once and expires after PASSWORD_RESET_TIMEOUT). The link is
    built from SITE_URL (securecloud.site), never from a request's Host header in
    production."""
    form = BrandedPasswordResetForm({"email": email})
    if not form.is_valid():
        return
    site_url = site_url or site.site_url()
    form.save(
        domain_override=urlsplit(site_url).netloc or "localhost",
        use_https=site_url.startswith("https:"),
        extra_email_context={"site_url": site_url},
    )


@task()
def send_password_reset(email: str, site_url: str = "") -> None:
    """The queued half of a request: email a set-password link to each login with this
    address (none for an address no login has: the page said the same either way)."""
    send_reset_links(email, site_url=site_url)
