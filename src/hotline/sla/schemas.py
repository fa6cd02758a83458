"""Policy payloads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hotline.kit.patch import refuse_nulls
from hotline.sla.policy import Clock, Unit
from hotline.ticket.schemas import Code, Kind, Line, LocalTime, Urgency
from hotline.workflow.schemas import WhistleLevel


class PolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clock: Clock
    amount: int = Field(ge=1, le=100_000, description="Minutes, or working days")
    unit: Unit
    urgency: Urgency | None = None
    kind: Kind | None = None
    line: Line | None = None
    category: Code | None = None
    level: WhistleLevel | None = Field(default=None, description="Report-in only")
    note: str = Field(default="", max_length=500)


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _nulls = refuse_nulls({"amount", "unit", "note", "active"})
    amount: int | None = Field(default=None, ge=1, le=100_000)
    unit: Unit | None = None
    note: str | None = Field(default=None, max_length=500)
    active: bool | None = None


class PolicyRead(BaseModel):
    id: int
    clock: Clock
    amount: int
    unit: Unit
    urgency: str | None
    kind: str | None
    line: str | None
    category: str | None
    level: str | None
    note: str
    active: bool
    created_at: LocalTime
    updated_at: LocalTime
