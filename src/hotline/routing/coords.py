"""Conversion of incoming coordinates to WGS-84, the system grid boundaries are stored in.

Callers to the hotline share locations from phone map apps, and each app uses its own datum:

* ``"wgs84"`` — GPS / WGS-84 (Tianditu, raw GPS): returned unchanged.
* ``"gcj02"`` — the obfuscated national datum (Amap/Gaode, Tencent, Apple Maps in China).
* ``"bd09"``  — Baidu's further-offset variant of GCJ-02.

The reverse transforms are the iterative ("bored") ones from ``prcoords`` (accuracy well below a
metre), never hand-written formulas.  GCJ-02 and BD-09 shifts only exist inside China, so points
outside prcoords' China box are returned unchanged.  Any other ``crs`` string (names are exact,
lower-case) raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable

import prcoords

_Reverse = Callable[[prcoords.Coords], prcoords.Coords]

_REVERSE: dict[str, _Reverse | None] = {
    "wgs84": None,
    "gcj02": prcoords.gcj_wgs_bored,
    "bd09": prcoords.bd_wgs_bored,
}

SUPPORTED_CRS = tuple(_REVERSE)


def to_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """Convert (lat, lon) given in ``crs`` to WGS-84 and return it as (lat, lon)."""
    if crs not in _REVERSE:
        raise ValueError(f"unknown coordinate system {crs!r}; expected one of {SUPPORTED_CRS}")
    reverse = _REVERSE[crs]
    point = prcoords.Coords(float(lat), float(lon))
    if reverse is None or not prcoords.sanity_in_china_p(point):
        return point.lat, point.lon
    wgs = reverse(point)
    return float(wgs.lat), float(wgs.lon)
