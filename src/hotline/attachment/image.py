"""The Pillow work on one uploaded photo, with no database: judge its type by its bytes, refuse
what is not a whole image or is a decompression bomb, read the capture time and GPS position
from the original's EXIF, and make the served copy and the thumbnail: turned upright by the
EXIF orientation, flattened to RGB, re-encoded as JPEG with no metadata at all.

CPU-bound (up to a second for a large photo): run it in a thread.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from hotline.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

# Pillow's format name → what the API calls it.
ACCEPTED = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp"}
QUALITY = 85
# EXIF tags (EXIF 2.32): the Exif and GPS sub-IFDs and what is read from them.
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATE_TIME, DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x0132, 0x9003, 0x9011
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 1, 2, 3, 4


@dataclass(frozen=True)
class Limits:
    max_pixels: int
    served_px: int
    thumb_px: int


@dataclass(frozen=True)
class Processed:
    format: str  # jpeg, png or webp: the original's, by its bytes
    served: bytes
    thumb: bytes
    width: int
    height: int
    taken_at: datetime | None
    lat: float | None
    lon: float | None


def process(data: bytes, limits: Limits, zone: tzinfo) -> Processed:
    """The photo made safe to serve. 415 for bytes that are no JPEG, PNG or WebP (whatever
    the file was called), 413 for more pixels than ``limits.max_pixels``, 422 for a broken
    image. ``zone``: the capture time's, when the camera wrote no offset."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = ACCEPTED.get(probe.format or "")
            width, height = probe.size
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        if isinstance(exc, Image.DecompressionBombError):
            raise _too_many_pixels(limits) from None
        raise UnsupportedMediaType(
            "只接受 JPEG、PNG 或 WebP 照片", en="Only JPEG, PNG or WebP photos are accepted"
        ) from None
    if kind is None:
        raise UnsupportedMediaType(
            f"只接受 JPEG、PNG 或 WebP 照片，这是 {probe.format}",
            en=f"Only JPEG, PNG or WebP photos are accepted, not {probe.format}",
            format=probe.format,
        )
    if width * height > limits.max_pixels:
        raise _too_many_pixels(limits)
    try:
        with Image.open(io.BytesIO(data)) as checked:
            checked.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise Unprocessable(
            "照片文件已损坏或不完整", en=f"The photo is broken or incomplete: {exc}", field="file"
        ) from None
    exif = image.getexif()
    taken_at = _taken_at(exif, zone)
    lat, lon = _position(exif)
    upright = _flat(ImageOps.exif_transpose(image))
    served = _encoded(upright, limits.served_px)
    thumb = _encoded(upright, limits.thumb_px)
    shown = Image.open(io.BytesIO(served))
    return Processed(kind, served, thumb, shown.width, shown.height, taken_at, lat, lon)


def _too_many_pixels(limits: Limits) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"照片像素不能超过 {limits.max_pixels}",
        en=f"A photo may have at most {limits.max_pixels} pixels",
    )


def _flat(image: Image.Image) -> Image.Image:
    """RGB; transparency laid on white (JPEG has none)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def _encoded(image: Image.Image, longest: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((longest, longest))
    # A fresh info: nothing of the original (EXIF, ICC, XMP, comments) rides along.
    copy.info = {}
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()


def _taken_at(exif: Image.Exif, zone: tzinfo) -> datetime | None:
    sub = exif.get_ifd(EXIF_IFD)
    raw = sub.get(DATE_TIME_ORIGINAL) or exif.get(DATE_TIME)
    if not isinstance(raw, str):
        return None
    try:
        naive = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "0000:00:00 00:00:00" and other blanks
    return naive.replace(tzinfo=_offset(sub.get(OFFSET_TIME_ORIGINAL)) or zone)


def _offset(raw: Any) -> tzinfo | None:
    """An EXIF offset ("+08:00") as a zone."""
    if not isinstance(raw, str) or len(raw.strip()) != 6:
        return None
    text = raw.strip()
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _position(exif: Image.Exif) -> tuple[float | None, float | None]:
    gps = exif.get_ifd(GPS_IFD)
    lat = _degrees(gps.get(GPS_LAT), gps.get(GPS_LAT_REF), "S")
    lon = _degrees(gps.get(GPS_LON), gps.get(GPS_LON_REF), "W")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return lat, lon


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    """Degrees, minutes, seconds (three rationals) as signed decimal degrees."""
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    if not math.isfinite(degrees):
        return None
    return -degrees if str(ref or "").strip("\x00 ").upper() == negative else degrees
