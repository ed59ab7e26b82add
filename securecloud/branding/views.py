"""The brand's files: the generated stylesheet and the logo. Public (the sign-in page
reached through a console address shows them before anyone signs in, and emails link
the logo), addressed by the reseller's opaque UUID, each with an ETag."""

import hashlib
from uuid import UUID

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition, require_safe

from securecloud.branding.models import Branding
from securecloud.branding.stylesheet import stylesheet

# Revalidated on every use (a 304 while unchanged): a new colour or logo shows at once.
CACHE = {"public": True, "no_cache": True, "max_age": 0}


def _colour_of(code: UUID) -> str:
    colour = (
        Branding.objects.filter(reseller__code=code, reseller__kind="reseller")
        .exclude(primary_colour="")
        .values_list("primary_colour", flat=True)
        .first()
    )
    if colour is None:
        raise Http404("No such stylesheet.")
    return colour


def _stylesheet_etag(request: HttpRequest, code: UUID) -> str:
    return hashlib.sha256(stylesheet(_colour_of(code)).encode()).hexdigest()[:32]


@require_safe
@condition(etag_func=_stylesheet_etag)
def branding_stylesheet(request: HttpRequest, code: UUID) -> HttpResponse:
    response = HttpResponse(stylesheet(_colour_of(code)), content_type="text/css; charset=utf-8")
    patch_cache_control(response, **CACHE)
    return response


def _logo_of(code: UUID) -> Branding:
    row = (
        Branding.objects.filter(reseller__code=code, reseller__kind="reseller")
        .exclude(logo="")
        .only("logo", "logo_type", "logo_digest")
        .first()
    )
    if row is None:
        raise Http404("No such logo.")
    return row


@require_safe
@condition(etag_func=lambda request, code: _logo_of(code).logo_digest)
def branding_logo(request: HttpRequest, code: UUID) -> FileResponse:
    row = _logo_of(code)
    try:
        handle = default_storage.open(row.logo, "rb")
    except OSError:
        raise Http404("No such logo.") from None
    response = FileResponse(handle, content_type=row.logo_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    patch_cache_control(response, **CACHE)
    return response
