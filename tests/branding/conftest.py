"""Two brands for the cast: Alpha Backup sells as "Alphacloud" (blue), Bravo Storage as
"Bravonet" (purple). Logos go to a temporary MEDIA_ROOT."""

import io

import pytest
from PIL import Image

from securecloud.branding import logos, services


def png(width: int = 64, height: int = 32, colour=(29, 78, 216), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG", **save)
    return out.getvalue()


def jpeg(width: int = 64, height: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


ALPHA = {
    "product_name": "Alphacloud",
    "primary_colour": "#1d4ed8",
    "support_email": "help@alphacloud.example",
    "support_url": "https://support.alphacloud.example/",
    "sender_name": "Alphacloud Backup",
    "console_host": "backup.alphacloud.example",
}
BRAVO = {
    "product_name": "Bravonet",
    "primary_colour": "#5b21b6",
    "support_email": "care@bravonet.example",
    "support_url": "https://bravonet.example/help",
    "sender_name": "Bravonet Team",
    "console_host": "console.bravonet.example",
}


@pytest.fixture
def alpha_brand(reseller_a):
    return services.set_branding(
        reseller_a,
        acting_user=None,
        origin="test",
        logo=logos.clean_logo(png(colour=(1, 2, 3))),
        **ALPHA,
    )


@pytest.fixture
def bravo_brand(reseller_b):
    return services.set_branding(
        reseller_b,
        acting_user=None,
        origin="test",
        logo=logos.clean_logo(png(colour=(9, 8, 7))),
        **BRAVO,
    )
