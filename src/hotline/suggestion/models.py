"""Suggestion models, stored and versioned so every process serves the same one, and what was
suggested for each ticket posted without a category (the figures compare it with the final
category)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base, JSONType


class SuggestionModel(Base):
    __tablename__ = "suggestion_model"

    version: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # seed | trained
    trained_at: Mapped[datetime]
    ticket_count: Mapped[int]
    # Held-out top-1 / top-3 with numerators and denominators, per category, the curve.
    figures: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    # Exactly one row is active once any exists (suggestion.service.use keeps it so).
    active: Mapped[bool] = mapped_column(default=False, index=True)
    activated_at: Mapped[datetime | None]


class TicketSuggestion(Base):
    """The top suggestion made at intake for a ticket posted without a category."""

    __tablename__ = "ticket_suggestion"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    model_version: Mapped[int]
    category_code: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    # The top three codes, best first: top-3 accuracy on intake.
    top3: Mapped[list[str]] = mapped_column(JSONType, default=list)
    accepted: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(index=True)
