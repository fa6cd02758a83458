"""The escalation ladders, as data."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base


class LadderRung(Base):
    """One rung of an escalation ladder (疑难诉求逐级化解). Each kind of owner climbs its own
    ladder (``track``: grid, department, enterprise); ``kind`` says which unit owns the rung
    for a ticket (escalation.ladder)."""

    __tablename__ = "ladder_rung"

    track: Mapped[str] = mapped_column(String(16), primary_key=True)
    level: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(50))
