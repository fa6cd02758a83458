"""Policy payloads."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hotline.kit.patch import refuse_nulls
from hotline.kit.types import FromRow
from hotline.sla.policy import Clock, Unit
from hotline.ticket.schemas import Code, Kind, Line, LocalTime, Urgency


class PolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clock: Clock
    amount: int = Field(ge=1, le=100_000, description="Minutes, or working days")
    unit: Unit
    urgency: Urgency | None = None
    kind: Kind | None = None
    line: Line | None = None
    category: Code | None = None
    level: Annotated[str, Field(pattern=r"^[a-z_]{1,16}$")] | None = Field(
        default=None,
        description="report_in: a whistle's level (routine, key, emergency); escalation: a "
        "rung's kind (village, township, county, department, line)",
    )
    note: str = Field(default="", max_length=500)


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _nulls = refuse_nulls({"amount", "unit", "note", "active"})
    amount: int | None = Field(default=None, ge=1, le=100_000)
    unit: Unit | None = None
    note: str | None = Field(default=None, max_length=500)
    active: bool | None = None


class PolicyRead(FromRow):
    id: int
    clock: Clock
    amount: int
    unit: Unit
    urgency: str | None
    kind: str | None
    line: str | None
    category: str | None = Field(validation_alias="category_code")
    level: str | None
    note: str
    active: bool
    created_at: LocalTime
    updated_at: LocalTime


class CalendarYearUpdate(BaseModel):
    """A whole year: the days off (法定节假日 and the days around them) and the make-up working
    days (调休); every other day follows Monday to Friday."""

    model_config = ConfigDict(extra="forbid")
    holidays: Annotated[list[date], Field(max_length=366)]
    workdays: Annotated[list[date], Field(max_length=366)] = []
    note: str = Field(default="", max_length=500)


class CalendarYearRead(BaseModel):
    year: int
    known: bool = Field(description="False: counted Monday to Friday, holidays unknown")
    source: str | None = Field(description="package, file or database; null when unknown")
    holidays: list[date]
    workdays: list[date] = Field(description="Make-up working days on weekends (调休)")
    working_days: int
    note: str
    updated_at: LocalTime | None
    updated_by: str | None
    recounted: int | None = Field(
        default=None,
        description="After a PUT: open tickets whose clocks had guessed this year, counted again",
    )
