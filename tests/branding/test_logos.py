"""Bad logo files get a clear form error and leave the current logo in place: a renamed
SVG, a PNG bomb (a small file declaring a huge image), 0 bytes, a wrong type, too many
bytes, too many pixels, a damaged file. Good files are re-encoded: what is stored is
Pillow's encoding of the pixels, never the uploaded bytes."""

import io
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from hierarchy.models import AuditEvent
from securecloud.branding.models import Branding
from tests.branding.conftest import jpeg, png


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(side: int = 30_000) -> bytes:
    """A valid PNG of side x side black pixels in a few KB: the zlib stream of its rows
    compresses about 1000:1, so decoding it would take gigabytes."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit grey
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(2000)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    return out.getvalue()


def big_noise_png() -> bytes:
    """A PNG over 512 KB (random pixels do not compress) within 1024 x 1024."""
    import os

    image = Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


BAD_FILES = {
    "a renamed SVG": ("logo.png", SVG, "image/png", "SVG images are not accepted"),
    "an SVG with a BOM": ("logo.png", b"\xef\xbb\xbf" + SVG, "image/png", "SVG"),
    "a PNG bomb": ("bomb.png", png_bomb(), "image/png", "pixels"),
    "0 bytes": ("empty.png", b"", "image/png", "The file is empty."),
    "a wrong type (GIF)": ("logo.gif", gif(), "image/gif", "not a PNG or JPEG"),
    "a wrong type (text)": ("logo.png", b"hello, I am not an image", "image/png", "not a PNG"),
    "a PDF named .jpg": ("logo.jpg", b"%PDF-1.4\n%...", "image/jpeg", "not a PNG or JPEG"),
    "too many pixels": ("wide.png", png(1025, 10), "image/png", "1025 x 10 pixels"),
    "a damaged PNG": ("cut.png", png(300, 300)[:60], "image/png", "could not be read"),
}


@pytest.fixture
def current_logo(alice_client, reseller_a):
    url = reverse("reseller-branding", args=[reseller_a.code])
    upload = SimpleUploadedFile("logo.png", png(), content_type="image/png")
    assert alice_client.post(url, {"product_name": "Alphacloud", "logo": upload}).status_code == 302
    return Branding.objects.get(reseller=reseller_a)


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_refused_with_a_clear_message_and_the_logo_stays(
    alice_client, reseller_a, current_logo, case
):
    name, data, content_type, message = BAD_FILES[case]
    url = reverse("reseller-branding", args=[reseller_a.code])
    events = AuditEvent.objects.count()
    response = alice_client.post(
        url,
        {
            "product_name": "Changed",
            "logo": SimpleUploadedFile(name, data, content_type=content_type),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page, page[page.find("invalid-feedback") :][:400]
    assert "The current logo is unchanged." in page
    row = Branding.objects.get(reseller=reseller_a)
    assert (row.logo, row.logo_digest, row.product_name) == (
        current_logo.logo,
        current_logo.logo_digest,
        "Alphacloud",
    )
    assert default_storage.exists(row.logo)
    assert AuditEvent.objects.count() == events
    _, files = default_storage.listdir(f"branding/{reseller_a.code}")
    assert len(files) == 1


def test_a_file_over_512_kb_is_refused_before_it_is_read(alice_client, reseller_a, current_logo):
    data = big_noise_png()
    assert len(data) > 512 * 1024
    url = reverse("reseller-branding", args=[reseller_a.code])
    response = alice_client.post(
        url, {"logo": SimpleUploadedFile("big.png", data, content_type="image/png")}
    )
    assert "a logo may be at most 512 KB" in response.content.decode()
    assert Branding.objects.get(reseller=reseller_a).logo == current_logo.logo


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_good_files_are_re_encoded(alice_client, reseller_a, kind):
    if kind == "png":
        data = png(1024, 1024, pnginfo=_text_info()) + b"<script>trailing</script>"
    else:
        data = jpeg(1024, 512)
    url = reverse("reseller-branding", args=[reseller_a.code])
    upload = SimpleUploadedFile(f"logo.{kind}", data, content_type=f"image/{kind}")
    assert alice_client.post(url, {"logo": upload}).status_code == 302
    row = Branding.objects.get(reseller=reseller_a)
    assert row.logo_type == f"image/{kind}"
    with default_storage.open(row.logo, "rb") as handle:
        stored = handle.read()
    assert stored != data
    assert b"<script>" not in stored and b"secret" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == kind.upper()
    assert image.size == ((1024, 1024) if kind == "png" else (1024, 512))


def _text_info():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret metadata")
    return info
