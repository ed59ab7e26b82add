"""A logo upload: checked and re-encoded with Pillow before anything is stored.

PNG or JPEG only, at most 512 KB and 1024 x 1024 pixels. The size in pixels is read
from the header and refused before any pixel is decoded, so a small file that declares a
huge image (a decompression bomb) costs nothing; Pillow's own bomb limit is lowered to
the same bound as a second guard. SVG (which can carry scripts) and anything else are
refused with a message that says so. What is stored is Pillow's re-encoding of the
decoded pixels, never the uploaded bytes: no metadata, no trailing data, no polyglot.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 512 * 1024
MAX_SIDE = 1024
FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg")}


@dataclass(frozen=True)
class Logo:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(f"{message} The current logo is unchanged.", code=code)


def _looks_like_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<") or b"<svg" in head.lower()


def clean_logo(data: bytes) -> Logo:
    """The re-encoded logo, or ValidationError with a message for the form."""
    if not data:
        raise _refuse("The file is empty.", "empty")
    if len(data) > MAX_BYTES:
        raise _refuse(
            f"The file is {len(data) // 1024} KB; a logo may be at most 512 KB.", "too_large"
        )
    if _looks_like_svg(data[:1024]):
        raise _refuse(
            "SVG images are not accepted (they can carry scripts): upload a PNG or JPEG.", "svg"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            width, height = image.size
            if width > MAX_SIDE or height > MAX_SIDE:
                raise _refuse(
                    f"The image is {width} x {height} pixels; a logo may be at most "
                    f"{MAX_SIDE} x {MAX_SIDE}.",
                    "too_many_pixels",
                )
            if width < 1 or height < 1:
                raise _refuse("The image has no pixels.", "no_pixels")
            image.load()
            return _reencode(image, image.format or "")
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(
            f"The image declares far more pixels than a logo may have (at most {MAX_SIDE} x "
            f"{MAX_SIDE}).",
            "too_many_pixels",
        ) from None
    except UnidentifiedImageError:
        raise _refuse(
            "This is not a PNG or JPEG image: upload a PNG or JPEG file.", "wrong_type"
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise _refuse(
            "The image could not be read (the file is damaged or incomplete).", "unreadable"
        ) from None


def _reencode(image: Image.Image, fmt: str) -> Logo:
    content_type, extension = FORMATS[fmt]
    out = io.BytesIO()
    if fmt == "PNG":
        mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") else "RGB"
        image.convert(mode).save(out, format="PNG", optimize=True)
    else:
        image.convert("RGB").save(out, format="JPEG", quality=90)
    return Logo(out.getvalue(), content_type, extension, image.width, image.height)


# The decompression-bomb guard of every Pillow decode in this process: four times the
# largest logo is far below Pillow's default (about 89 million pixels).
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE * 4
