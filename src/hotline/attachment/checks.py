"""What the centre is shown of a photo's EXIF, as a pure rule: how far from the ticket's place
it was taken and how long after dispatch, and the flags a doubtful photo gets."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
FAR_FROM_PLACE = "far_from_place"
BEFORE_DISPATCH = "before_dispatch"


@dataclass(frozen=True)
class Check:
    distance_m: float | None = None
    minutes_since_dispatch: int | None = None
    flags: list[str] = field(default_factory=list)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def judge(
    *,
    place: tuple[float, float] | None,
    dispatched_at: datetime | None,
    taken_at: datetime | None,
    position: tuple[float, float] | None,
    far_metres: float,
) -> Check:
    """Distance from ``place`` (the ticket's WGS-84 point) and minutes from ``dispatched_at``
    to the capture; each unknown (None) when either side is. Flags: taken farther than
    ``far_metres`` away, taken before the ticket was dispatched."""
    distance = haversine_m(*place, *position) if place and position else None
    minutes = None
    if dispatched_at is not None and taken_at is not None:
        minutes = math.floor((taken_at - dispatched_at).total_seconds() / 60)
    flags = []
    if distance is not None and distance > far_metres:
        flags.append(FAR_FROM_PLACE)
    if dispatched_at is not None and taken_at is not None and taken_at < dispatched_at:
        flags.append(BEFORE_DISPATCH)
    return Check(None if distance is None else round(distance, 1), minutes, flags)
