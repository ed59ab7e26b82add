"""Two-factor sign-in (TOTP, with one-time recovery codes) for console admins.

Any admin may turn it on. A reseller may require it of every admin in its subtree: an
admin is required to use it when its own reseller or any reseller above has
`require_two_factor` set. The middleware sends a signed-in user who has a device but
has not entered a code this session to the verify page, and one who must have a device
but has none to the setup page.
"""

import time
from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hierarchy.models import Node, reseller_of

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
AUTHENTICATOR_NAME = "Authenticator app"


def two_factor_required(user) -> bool:
    """Whether a reseller at or above the user's own requires two-factor sign-in."""
    reseller = reseller_of(user)
    if reseller is None:
        return False
    return Node.objects.filter(
        tree_id=reseller.tree_id,
        lft__lte=reseller.lft,
        rght__gte=reseller.rght,
        require_two_factor=True,
    ).exists()


def has_two_factor(user) -> bool:
    return user_has_device(user, confirmed=True)


def forget_clearance(request) -> None:
    """Make the middleware check again on the next request (after a device change)."""
    request.session.pop(_CHECKED_AT, None)


def start_setup(user) -> TOTPDevice:
    """A fresh, unconfirmed authenticator for the user (earlier unconfirmed ones go)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def secret_for_display(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an authenticator app."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (img-src allows data:)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=4)


def pending_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def confirm_setup(user, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the authenticator with a code from it; returns new recovery codes."""
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError("Start the setup again.", code="stale")
    if not device.verify_token((token or "").strip()):
        raise ValidationError(
            {"token": "That code is not right. Enter the 6 digits your app shows now."}
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return regenerate_recovery_codes(user)


def regenerate_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes; each works once."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def verify(user, token: str):
    """The device that accepts `token` (an authenticator code or a recovery code), or None."""
    token = (token or "").strip().replace(" ", "")
    if not token:
        return None
    for device in [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True),
    ]:
        if device.verify_token(token):
            return device
    return None


def disable(user) -> None:
    if two_factor_required(user):
        raise ValidationError(
            "Your reseller requires two-factor sign-in: it cannot be turned off.",
            code="required",
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


# A user who needs no second factor is re-checked at most this often (in seconds), so
# that console pages do not pay two extra queries each; a new policy or a new device
# takes effect within this time.
RECHECK_SECONDS = 300
_CHECKED_AT = "two_factor_not_needed_at"

# Pages a user who still owes a second factor may reach.
_EXEMPT_URL_NAMES = {"two-factor-verify", "two-factor-setup", "logout", "login"}
_EXEMPT_PREFIXES = ("/static/", "/api/", "/healthz")


class TwoFactorMiddleware:
    """After django_otp's OTPMiddleware: enforce the second factor on every page."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt_paths = None

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and not request.path.startswith(_EXEMPT_PREFIXES)
            and user.is_authenticated
            and not user.is_verified()
            and not self._exempt(request.path)
            and not self._recently_cleared(request)
        ):
            if has_two_factor(user):
                return self._redirect("two-factor-verify", request)
            if two_factor_required(user):
                return self._redirect("two-factor-setup", request)
            request.session[_CHECKED_AT] = int(time.time())
        return self.get_response(request)

    @staticmethod
    def _recently_cleared(request) -> bool:
        checked_at = request.session.get(_CHECKED_AT)
        return checked_at is not None and time.time() - checked_at < RECHECK_SECONDS

    def _exempt(self, path: str) -> bool:
        if path.startswith(_EXEMPT_PREFIXES):
            return True
        if self._exempt_paths is None:
            self._exempt_paths = {reverse(name) for name in _EXEMPT_URL_NAMES}
        return path in self._exempt_paths

    @staticmethod
    def _redirect(name: str, request):
        return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
