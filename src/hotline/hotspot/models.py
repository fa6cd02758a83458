"""Hot-spot clusters (类案) and the detector's rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base, JSONType


class Cluster(Base):
    __tablename__ = "cluster"
    __table_args__ = (Index("ix_cluster_category_code_place_code", "category_code", "place_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    place_code: Mapped[str] = mapped_column(ForeignKey("unit.code"))
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | assigned | closed
    size: Mapped[int]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    trend: Mapped[list[int]] = mapped_column(JSONType, default=list)
    lead_unit_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"))
    standard: Mapped[str] = mapped_column(Text, default="")  # 处置规范
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_rule.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ClusterMember(Base):
    __tablename__ = "cluster_member"

    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True, index=True)


class HotspotRule(Base):
    """One row: at least ``min_size`` similar tickets of one category in one place within
    ``window_days`` make a hot spot."""

    __tablename__ = "hotspot_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    min_size: Mapped[int] = mapped_column(default=3)
    window_days: Mapped[int] = mapped_column(default=30)
    threshold: Mapped[float] = mapped_column(default=0.3)
    updated_at: Mapped[datetime]
    # The last detection by any process (jobs.serve runs one when the interval has passed).
    detected_at: Mapped[datetime | None] = mapped_column(default=None)
