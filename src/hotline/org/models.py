"""Units (county → township → village → grid, departments, the confirmation group), staff,
dedicated members attached to grids, the dispatch catalogue and the category catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base, JSONType


class Unit(Base):
    __tablename__ = "unit"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # GeoJSON geometry (lon/lat, WGS-84); required for grids.
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    default_grid_code: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Staff(Base):
    """A person the service assigns work to: a grid worker or a department's member."""

    __tablename__ = "staff"
    __table_args__ = (Index("ix_staff_unit_code_role", "unit_code", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    on_duty: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class GridMember(Base):
    """A dedicated grid member (专属网格员): department staff attached to a grid."""

    __tablename__ = "grid_member"

    grid_code: Mapped[str] = mapped_column(ForeignKey("unit.code"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True, index=True)
    created_at: Mapped[datetime]


class CatalogueRule(Base):
    """(category, line, area) → handling unit (派单目录). Empty fields match anything."""

    __tablename__ = "catalogue_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("category.code"))
    line: Mapped[str | None] = mapped_column(String(16))
    area_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"))
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"))
    priority: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="manual")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Category(Base):
    """The category catalogue (诉求分类) agents pick from; Open311 serves it as services."""

    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    group_name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # A reply is refused (409 photo_required) until the work round has an `after` photo.
    requires_after_photo: Mapped[bool] = mapped_column(default=False)
    # Managed through the API (org.category_admin): the category above it, the department on
    # duty for it (kept as a catalogue rule of source "category"), the urgency a ticket that
    # names none gets.
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("category.code"))
    duty_unit_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"))
    default_urgency: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime | None]
