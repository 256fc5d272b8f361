"""photos/images.py: what a photo is decided from and what is kept of it."""

from __future__ import annotations

import hashlib
import io
import zlib
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from photos import images
from photos.images import Refused, reencode

GPS_IFD = 0x8825
MAKE = 0x010F
ORIENTATION = 0x0112


def picture(width: int = 400, height: int = 300, fmt: str = "JPEG", **save) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((20, 20, 200), (0, 0, width // 2, height // 2))  # a corner to tell which way is up
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def with_gps() -> bytes:
    exif = Image.Exif()
    exif[MAKE] = "CameraMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (30.0, 40.0, 50.0), 3: "E", 4: (103.0, 50.0, 10.0)})
    return picture(exif=exif.tobytes())


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims its size in its header: a bomb needs no more to be refused."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_jpeg_is_kept_as_a_jpeg_named_by_its_hash():
    kept = reencode(picture())
    assert Image.open(io.BytesIO(kept.jpeg)).format == "JPEG"
    assert (kept.width, kept.height) == (400, 300)
    assert kept.sha256 == hashlib.sha256(kept.jpeg).hexdigest()
    assert Image.open(io.BytesIO(kept.thumb)).size == (320, 240)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_taken_and_become_jpeg(fmt):
    kept = reencode(picture(fmt=fmt))
    assert Image.open(io.BytesIO(kept.jpeg)).format == "JPEG"


def test_transparency_shows_white():
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    kept = Image.open(io.BytesIO(reencode(out.getvalue()).jpeg))
    assert min(kept.getpixel((5, 5))) > 240


def test_no_image_is_refused_whatever_it_claims():
    with pytest.raises(Refused) as refused:
        reencode(b"<html><script>alert(1)</script></html>")
    assert refused.value.reason == images.NOT_AN_IMAGE


def test_a_gif_or_bmp_is_not_taken():
    for fmt in ("GIF", "BMP"):
        with pytest.raises(Refused):
            reencode(picture(fmt=fmt))


def test_a_truncated_jpeg_is_refused():
    with pytest.raises(Refused):
        reencode(picture()[:300])


def test_a_bomb_is_refused_from_its_header():
    with pytest.raises(Refused) as refused:
        reencode(png_header_only(20_000, 20_000))
    assert refused.value.reason == images.TOO_MANY_PIXELS


def test_too_many_bytes_are_refused():
    with pytest.raises(Refused) as refused:
        reencode(b"\xff" * (images.MAX_BYTES + 1))
    assert refused.value.reason == images.TOO_MANY_BYTES


def test_gps_and_maker_are_stripped():
    original = with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test's photo does hold them
    kept = reencode(original)
    for blob in (kept.jpeg, kept.thumb):
        opened = Image.open(io.BytesIO(blob))
        assert not opened.getexif() and "exif" not in opened.info and "icc_profile" not in opened.info
        assert b"Exif" not in blob and b"CameraMaker" not in blob


def test_orientation_is_applied():
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # held on its side: shown turned a quarter clockwise
    kept = reencode(picture(400, 300, exif=exif.tobytes()))
    assert (kept.width, kept.height) == (300, 400)


def test_the_long_side_is_at_most_1600():
    kept = reencode(picture(4000, 1000))
    assert (kept.width, kept.height) == (1600, 400)
    assert max(Image.open(io.BytesIO(kept.thumb)).size) == 320


def test_a_polyglot_keeps_nothing_of_its_tail():
    tail = b"PK\x03\x04" + b"zipped" * 50 + b"<html><script>alert(1)</script></html>"
    kept = reencode(picture() + tail)
    assert b"PK\x03\x04" not in kept.jpeg and b"<script" not in kept.jpeg
    assert kept.jpeg.endswith(b"\xff\xd9")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=2000),
    st.builds(lambda w, h, fmt, cut: picture(w, h, fmt)[:cut] if cut else picture(w, h, fmt),
              st.integers(1, 2000), st.integers(1, 60), st.sampled_from(["JPEG", "PNG", "WEBP", "GIF"]),
              st.one_of(st.none(), st.integers(0, 400))),
    st.builds(lambda head, body: head + body, st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF"]),
              st.binary(max_size=500)),
))
def test_any_bytes_are_a_clean_jpeg_or_refused(data):
    try:
        kept = reencode(data)
    except Refused as refused:
        assert refused.reason in images.REASONS
        return
    opened = Image.open(io.BytesIO(kept.jpeg))
    opened.load()
    assert opened.format == "JPEG" and max(opened.size) <= images.LONG_SIDE and not opened.getexif()
    assert opened.size == (kept.width, kept.height) and min(opened.size) >= 1
