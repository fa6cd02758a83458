"""An attachment row: what was uploaded, what is served, and what the original's EXIF said."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base, JSONType


class Attachment(Base):
    """A photo of a ticket. Its files are in the store under ``storage_key`` (a random id,
    never a name the uploader chose): the original as sent, the served copy, the thumbnail."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_ticket_id_stage", "ticket_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    stage: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    # The original as the bytes said it is (JPEG, PNG, WEBP), its size and hash.
    original_format: Mapped[str] = mapped_column(String(8))
    original_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # The served copy (JPEG, metadata stripped) and its thumbnail.
    width: Mapped[int]
    height: Mapped[int]
    served_bytes: Mapped[int]
    thumb_bytes: Mapped[int]
    # Staff-only, from the original's EXIF: when and where it was taken (WGS-84).
    taken_at: Mapped[datetime | None]
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    # What the centre is shown, judged at upload: metres from the ticket's place, minutes from
    # dispatch to the capture, and the flags (far_from_place, before_dispatch).
    distance_m: Mapped[float | None]
    minutes_since_dispatch: Mapped[int | None]
    flags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    uploaded_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    uploaded_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    uploaded_by_role: Mapped[str] = mapped_column(String(16))
    uploaded_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
