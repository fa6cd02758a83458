"""Test photos made with Pillow, EXIF included (capture time, GPS IFD 0x8825, orientation)."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from tests.conftest import Demo

GRID = "210124100002001"  # 东湖社区第一网格: where 东湖公园 routes
OTHER_GRID = "210124100001002"
VILLAGE = "210124100002"  # 东湖社区
TOWNSHIP = "210124100"  # 法库镇
MIB = 1024 * 1024


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return float(degrees), float(minutes), seconds


def photo(
    fmt: str = "JPEG",
    *,
    size: tuple[int, int] = (640, 480),
    taken: str | None = "2026:06:01 10:30:00",
    gps: tuple[float, float] | None = (42.5, 123.4),
    orientation: int | None = None,
    mode: str = "RGB",
) -> bytes:
    image = Image.new(mode, size, (200, 60, 40) if mode == "RGB" else 0)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0131] = "hotline tests"  # Software
    if orientation is not None:
        exif[0x0112] = orientation
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken
    if gps is not None:
        lat, lon = gps
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2] = ("N" if lat >= 0 else "S"), _dms(lat)
        ifd[3], ifd[4] = ("E" if lon >= 0 else "W"), _dms(lon)
    out = io.BytesIO()
    extra: dict[str, Any] = {"exif": exif} if fmt in ("JPEG", "PNG", "WEBP") else {}
    image.save(out, fmt, **extra)
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ticket: dict[str, Any] | int,
    data: bytes,
    *,
    stage: str = "after",
    name: str = "photo.jpg",
    content_type: str = "image/jpeg",
    note: str | None = None,
    key: str | None = None,
) -> httpx.Response:
    ticket_id = ticket if isinstance(ticket, int) else ticket["id"]
    form = {"stage": stage, **({"note": note} if note is not None else {})}
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return await client.post(
        f"/v1/tickets/{ticket_id}/attachments",
        files={"file": (name, data, content_type)},
        data=form,
        headers=headers,
    )


async def uploaded(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ticket: dict[str, Any],
    data: bytes,
    **kw: Any,
) -> dict[str, Any]:
    r = await upload(client, headers, ticket, data, **kw)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def grid_centre(
    client: httpx.AsyncClient, demo: Demo, code: str = GRID
) -> tuple[float, float]:
    from shapely.geometry import shape

    r = await client.get(f"/v1/grids/{code}", headers=demo.headers("admin"))
    point = shape(r.json()["geometry"]).representative_point()
    return point.y, point.x


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))
