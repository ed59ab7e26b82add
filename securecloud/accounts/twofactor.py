"""Two-factor sign-in (TOTP, with one-time recovery codes) for console admins.

Any admin may turn it on. A reseller may require it of every admin in its subtree: an
admin is required to use it when its own reseller or any reseller above has
`require_two_factor` set. The middleware sends a signed-in user who has a device but
has not entered a code this session to the verify page, and one who must have a device
but has none to the setup page.

Changing how an admin signs in (setting up or replacing the authenticator, turning it
off, new recovery codes, a new password) takes a session that has passed the second
factor, or a user who has none yet; the views and the functions here both check it.
"""

import time
from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from hierarchy import audit
from hierarchy.models import Membership, Node, reseller_of

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
AUTHENTICATOR_NAME = "Authenticator app"


def two_factor_required(user) -> bool:
    """Whether a reseller at or above the user's own requires two-factor sign-in. A
    customer user's resellers (those above its customer) require it of customer users
    only when they also set "Also require it of customer users"."""
    node = reseller_of(user)
    if node is None:
        return False
    # above() reads the node's place in the tree in the same statement, so a shift of
    # the tree meanwhile cannot miss an ancestor that requires it.
    policies = Node.objects.above(node).filter(require_two_factor=True)
    if node.is_customer:
        policies = policies.filter(require_two_factor_customer_users=True)
    return policies.exists()


def has_two_factor(user) -> bool:
    return user_has_device(user, confirmed=True)


def forget_clearance(request) -> None:
    """Make the middleware check again on the next request (after a device change)."""
    request.session.pop(_CHECKED_AT, None)


def may_change(request) -> bool:
    """Whether this session may set up, replace or turn off the user's second factor,
    renew the recovery codes or change the password: when it has passed the second
    factor, or when the user has none yet (a new admin whose reseller requires one sets
    it up right after the password). Asked of the database on every call, so a session
    that signed in before the second factor was turned on gets no say over it."""
    user = request.user
    return user.is_authenticated and (user.is_verified() or not has_two_factor(user))


# The key being set up lives in the session (signed, bound to the user, for an hour)
# until a code from it confirms it: opening the setup page stores nothing else.
_PENDING_KEY = "two_factor_pending_key"
_PENDING_SALT = "securecloud.accounts.twofactor.pending-key"
PENDING_KEY_MAX_AGE = 60 * 60


def pending_key(request) -> str:
    """This session's key being set up (hex), made the first time it is asked for."""
    key = _stored_pending_key(request)
    if key is not None:
        return key
    key = random_hex(20)
    request.session[_PENDING_KEY] = signing.dumps(
        {"user": request.user.pk, "key": key}, salt=_PENDING_SALT
    )
    return key


def _stored_pending_key(request) -> str | None:
    stored = request.session.get(_PENDING_KEY)
    if not stored:
        return None
    try:
        data = signing.loads(stored, salt=_PENDING_SALT, max_age=PENDING_KEY_MAX_AGE)
    except signing.BadSignature:  # expired ones too
        return None
    if not isinstance(data, dict) or data.get("user") != request.user.pk:
        return None
    return data.get("key")


def drop_pending_key(request) -> None:
    request.session.pop(_PENDING_KEY, None)


def authenticator_for_key(user, key: str) -> TOTPDevice:
    """The authenticator a key makes, unsaved."""
    return TOTPDevice(user=user, name=AUTHENTICATOR_NAME, key=key, confirmed=True)


def secret_for_display(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an authenticator app."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (img-src allows data:)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=4)


WRONG_SETUP_CODE = "That code is not right. Enter the 6 digits your app shows now."
NOT_VERIFIED = "Enter a code from your authenticator app (or a recovery code) first."


def confirm_setup(
    user, key: str, token: str, *, verified: bool, origin: str
) -> tuple[TOTPDevice, list[str]]:
    """Make `key` the user's authenticator once `token` shows the app has it, in place of
    any earlier one; returns the saved device and new recovery codes. `verified`: whether
    the session asking has passed the second factor (needed when the user has one)."""
    device = authenticator_for_key(user, key)
    token = (token or "").strip().replace(" ", "")
    check = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    check.time = time.time()
    if not token.isdigit() or not check.verify(int(token), device.tolerance):
        raise ValidationError({"token": WRONG_SETUP_CODE}, code="invalid")
    device.last_t = check.t()  # the same code cannot sign in again
    with transaction.atomic():
        _lock_user(user)
        had = has_two_factor(user)
        if had and not verified:
            raise ValidationError(NOT_VERIFIED, code="not_verified")
        TOTPDevice.objects.filter(user=user).delete()
        device.save()
        codes = _renew_recovery_codes(user)
        _record(
            "admin.two_factor_replaced" if had else "admin.two_factor",
            user,
            origin,
            {} if had else {"two_factor": [False, True]},
        )
    return device, codes


def regenerate_recovery_codes(user, *, verified: bool, origin: str) -> list[str]:
    """Replace the user's recovery codes; each works once."""
    with transaction.atomic():
        _lock_user(user)
        if not has_two_factor(user):
            raise ValidationError("Turn on two-factor sign-in first.", code="off")
        if not verified:
            raise ValidationError(NOT_VERIFIED, code="not_verified")
        codes = _renew_recovery_codes(user)
        _record("admin.recovery_codes_renewed", user, origin, {})
    return codes


def _renew_recovery_codes(user) -> list[str]:
    # A new device, not only new codes: a session keeps the device it signed in with, so
    # every session that signed in with an old code (a stolen one, say) must enter a
    # code again. The views sign the asking session in again (keep_verified).
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def keep_verified(request) -> None:
    """After new recovery codes: the asking session, if it signed in with a recovery
    code, is signed in with the new codes' device (its old device is gone)."""
    if isinstance(getattr(request.user, "otp_device", None), StaticDevice):
        device = StaticDevice.objects.filter(user=request.user).first()
        if device is not None:
            otp_login(request, device)


def _lock_user(user) -> None:
    """Serialise second-factor changes of one user (two sessions at once)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def _record(action: str, user, origin: str, changes: dict) -> None:
    membership = Membership.objects.select_related("reseller").filter(user=user).first()
    audit.record(
        action,
        membership,
        acting_user=user,
        origin=origin,
        changes=changes,
        object_type=None if membership else "user",
    )


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


def disable(user, *, verified: bool, origin: str) -> None:
    if two_factor_required(user):
        raise ValidationError(
            "Your reseller requires two-factor sign-in: it cannot be turned off.",
            code="required",
        )
    with transaction.atomic():
        _lock_user(user)
        if not has_two_factor(user):
            return
        if not verified:
            raise ValidationError(NOT_VERIFIED, code="not_verified")
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _record("admin.two_factor", user, origin, {"two_factor": [True, False]})


# A user who needs no second factor is re-checked at most this often (in seconds), so
# that console pages do not pay two extra queries each; a new policy or a new device
# takes effect within this time.
RECHECK_SECONDS = 300
_CHECKED_AT = "two_factor_not_needed_at"

# Pages a user who still owes a second factor may reach; the setup page too while the
# user has no second factor yet (the view checks again).
_EXEMPT_URL_NAMES = {"two-factor-verify", "logout", "login"}
_SETUP_URL_NAME = "two-factor-setup"
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
            if request.path == reverse(_SETUP_URL_NAME):
                return self.get_response(request)
            if two_factor_required(user):
                return self._redirect(_SETUP_URL_NAME, request)
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
