"""A rider's photo made safe to keep and to show: decided from its bytes, never
its name or declared type; refused when it is no image, too many bytes or too
many pixels (a decompression bomb); turned upright by its EXIF orientation, then
re-encoded from its pixels alone, so EXIF, GPS, maker notes, ICC profiles and any
bytes appended to the file (a polyglot's zip or HTML) are left behind.

Pure functions of bytes: `reencode(data)` gives the JPEG that is kept, its
thumbnail and their sizes; the SHA-256 of that JPEG is the photo's name.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

MAX_BYTES = 10 * 1024 * 1024  # what a phone's camera gives, with room
MAX_PIXELS = 40_000_000  # 40 MP: more than a phone's camera, far less than a bomb's billions
LONG_SIDE = 1_600  # enough to read a number plate across a street on an officer's screen
THUMB_SIDE = 320
QUALITY = 82
# Bicubic: a quarter less time than Lanczos on a phone's photo (bench/photos.py), no difference an officer sees.
RESAMPLING = Image.Resampling.BICUBIC
# Read from the bytes only; HEIF joins when a plugin (pillow-heif) has registered it with Pillow.
Image.init()
FORMATS = tuple(f for f in ("JPEG", "PNG", "WEBP", "HEIF") if f in Image.OPEN)


class Refused(ValueError):
    """Why bytes are not kept as a photo: `reason` is one of REASONS."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


NOT_AN_IMAGE, TOO_MANY_BYTES, TOO_MANY_PIXELS = "not-an-image", "too-many-bytes", "too-many-pixels"
REASONS = (NOT_AN_IMAGE, TOO_MANY_BYTES, TOO_MANY_PIXELS)


@dataclass(frozen=True)
class Reencoded:
    jpeg: bytes
    thumb: bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.jpeg).hexdigest()

    @property
    def thumb_sha256(self) -> str:
        return hashlib.sha256(self.thumb).hexdigest()


def reencode(data: bytes) -> Reencoded:
    """The photo as it is kept; raises Refused."""
    if len(data) > MAX_BYTES:
        raise Refused(TOO_MANY_BYTES, f"a photo may be at most {MAX_BYTES} bytes, not {len(data)}")
    image = decoded(data)
    try:
        picture = bare(rgb(upright(image)))
    except Exception:  # a mode no conversion takes (a float or 16-bit layout of some decoder)
        raise Refused(NOT_AN_IMAGE, "the photo's colours could not be read") from None
    picture.thumbnail((LONG_SIDE, LONG_SIDE), RESAMPLING)
    thumb = picture.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), RESAMPLING)
    return Reencoded(jpeg(picture), jpeg(thumb), picture.width, picture.height)


def decoded(data: bytes) -> Image.Image:
    """The first frame, loaded; its size is checked from the header, before a
    single pixel is decoded."""
    with warnings.catch_warnings():
        # Pillow's own bomb check warns (or raises) at its limit; ours is lower and comes first.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Refused(TOO_MANY_PIXELS, f"a photo may have at most {MAX_PIXELS} pixels") from None
        except Exception:
            raise Refused(NOT_AN_IMAGE, f"not a photo: only {', '.join(FORMATS)} are taken") from None
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise Refused(TOO_MANY_PIXELS, f"a photo may have at most {MAX_PIXELS} pixels, "
                                           f"not {width}×{height}")
        try:
            if image.format == "JPEG":
                image.draft("RGB", (LONG_SIDE, LONG_SIDE))  # decoded at a fraction of its size, much faster
            image.load()
            return image
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Refused(TOO_MANY_PIXELS, f"a photo may have at most {MAX_PIXELS} pixels") from None
        except Exception:
            # Truncated, corrupt, or a header no decoder agrees with: not a photo either.
            raise Refused(NOT_AN_IMAGE, "the photo's bytes could not be decoded") from None


def rgb(image: Image.Image) -> Image.Image:
    """Colour without transparency: a transparent part shows white, as on paper."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def upright(image: Image.Image) -> Image.Image:
    """Turned as the camera said it was held; a broken orientation tag leaves the photo as it was shot."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        return image


def bare(image: Image.Image) -> Image.Image:
    """The pixels alone, in a new image: nothing of the file's metadata can follow."""
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    return clean


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif= nor icc_profile=: the encoder writes only what it is given.
    image.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
