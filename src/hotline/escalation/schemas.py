"""Payloads of escalation, rulings and supervision."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hotline.ticket.schemas import Code, TicketRead

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EscalateIn(Strict):
    reason: Text
    to_group: bool = Field(
        default=False,
        description="Straight to the confirmation group (确责), for disputed ownership "
        "(officers and dispatchers)",
    )


class RulingIn(Strict):
    lead_unit: Code = Field(description="The unit that owns the ticket from now on")
    co_units: Annotated[list[Code], Field(max_length=20)] = []
    reasoning: Text
    category: Code | None = Field(
        default=None, description="The category the group rules the ticket is (a correction)"
    )
    add_rule: bool = Field(
        default=False,
        description="Also route this class of case (category, village) to the lead unit",
    )


class SupervisionLevel(StrEnum):
    general = "general"  # 一般督办
    key = "key"  # 重点督办
    urgent = "urgent"  # 紧急督办


class SuperviseIn(Strict):
    level: SupervisionLevel
    note: Text


class DisputedTicket(BaseModel):
    ticket: TicketRead
    history: list[dict[str, Any]] = Field(
        description="Returns, transfers, reworks and escalations: who, what, why"
    )
