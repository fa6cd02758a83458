"""The answers of actions sent with an ``Idempotency-Key`` (intake keeps its own,
``ticket.models.IdempotencyRecord``, which points at the ticket it made)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base


class ActionKey(Base):
    """One key of one API key, written in the transaction of the action it answered: a
    rolled-back action leaves no key, so its retry acts afresh."""

    __tablename__ = "action_key"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"))
    key: Mapped[str] = mapped_column(String(255))
    # sha256 of the method, path and body: the same key with another request is a 422.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
