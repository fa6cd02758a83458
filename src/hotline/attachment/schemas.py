"""The API's shapes of an attachment."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from hotline.kit.types import LocalTime


class Stage(StrEnum):
    before = "before"
    during = "during"
    after = "after"


class Size(StrEnum):
    full = "full"
    thumb = "thumb"


class Uploader(BaseModel):
    role: str
    name: str


class Exif(BaseModel):
    """Staff-only: what the original's EXIF said (the centre and officers)."""

    taken_at: LocalTime | None
    lat: float | None
    lon: float | None


class PlaceCheck(BaseModel):
    """For the centre and officers: the capture against the ticket, judged at upload."""

    distance_m: float | None = Field(description="Metres from the ticket's place")
    minutes_since_dispatch: int | None = Field(
        description="Minutes from dispatch to the capture (negative: before dispatch)"
    )
    flags: list[str] = Field(description="`far_from_place` (over 5 km), `before_dispatch`")


class AttachmentRead(BaseModel):
    id: int
    ticket_id: int
    stage: Stage
    note: str
    content_type: str = "image/jpeg"
    width: int
    height: int
    bytes: int
    url: str
    thumb_url: str
    uploaded_by: Uploader
    created_at: LocalTime
    # The ticket's version after the upload (a photo is a change to the ticket's timeline).
    ticket_version: int | None = None
    exif: Exif | None = None
    check: PlaceCheck | None = None
