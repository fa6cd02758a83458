from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base, JSONType


class PiiRead(Base):
    """One request that returned unmasked caller data, with the tickets it covered."""

    __tablename__ = "pii_read"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(200))
    ticket_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
