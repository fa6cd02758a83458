"""The API's shapes of a report (通报) and of its grading policy."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from hotline.errors import Invalid
from hotline.report import grades


class Figure(BaseModel):
    value: int | float | None = Field(
        description="A count column: the count (= numerator). A rate column: numerator ÷ "
        "denominator, rounded to 4 places, null when 0 ÷ 0"
    )
    numerator: int
    denominator: int


def _a_number(value: Any) -> Any:
    """A rate is a JSON number: true, false and "0.9" are refused, not read as 1, 0 and 0.9."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise Invalid("应为 0 到 1 之间的数", en="must be a number between 0 and 1")
    return value


Rate = Annotated[float, BeforeValidator(_a_number)]


class ThresholdIO(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on_time_completion: Rate = Field(ge=0, le=1, description="按时办结率 at least")
    satisfaction: Rate = Field(ge=0, le=1, description="满意率 at least")


class GradesIO(BaseModel):
    """Grade A when both rates reach A's thresholds, else B, else C, else D (A ≥ B ≥ C)."""

    model_config = ConfigDict(extra="forbid")
    a: ThresholdIO
    b: ThresholdIO
    c: ThresholdIO
    satisfaction_floor: Rate = Field(
        ge=0, le=1, description="Units whose satisfaction rate is below it are named (满意度未达标)"
    )

    @classmethod
    def of(cls, policy: grades.Policy) -> GradesIO:
        def threshold(t: grades.Threshold) -> ThresholdIO:
            return ThresholdIO(on_time_completion=t.on_time, satisfaction=t.satisfaction)

        return cls(
            a=threshold(policy.a),
            b=threshold(policy.b),
            c=threshold(policy.c),
            satisfaction_floor=policy.satisfaction_floor,
        )

    def policy(self) -> grades.Policy:
        def threshold(t: ThresholdIO) -> grades.Threshold:
            return grades.Threshold(t.on_time_completion, t.satisfaction)

        return grades.Policy(
            threshold(self.a), threshold(self.b), threshold(self.c), self.satisfaction_floor
        )


class GradesRead(GradesIO):
    model_config = ConfigDict(extra="ignore")
    updated_at: datetime | None = Field(description="When last set; null: the defaults hold")


class PeriodRead(BaseModel):
    kind: str
    start: date
    end: date = Field(description="The next period's first day (exclusive)")
    last: date = Field(description="The period's last day")
    label: str


class ColumnRead(BaseModel):
    key: str
    header: str = Field(description="The column's Chinese header, as in the Excel file")
    kind: str = Field(description="count | rate")
    formula: str


class UnitRow(BaseModel):
    code: str | None = Field(description="null in the total row")
    name: str
    kind: str | None
    kind_zh: str
    figures: dict[str, Figure] = Field(description="Per column key (see `columns`)")
    grade: str | None = Field(description="A–D; null when a rate it needs is 0 ÷ 0")


class BelowFloor(BaseModel):
    code: str
    name: str
    kind_zh: str
    satisfaction: Figure
    unsatisfied: Figure


class Hotspot(BaseModel):
    id: int
    category: str
    category_name: str
    place: str
    place_name: str
    size: int
    first_seen: date
    last_seen: date
    status: str
    status_zh: str
    lead_unit: str | None
    lead_unit_name: str | None
    keywords: list[str]


class CategoryRow(BaseModel):
    rank: int
    category: str | None
    name: str
    received: Figure = Field(description="受理量, of all received in the period")
    share: Figure = Field(description="占比: received ÷ all received")
    completion: Figure
    satisfaction: Figure


class Report(BaseModel):
    period: PeriodRead
    title: str
    grades: GradesIO
    columns: list[ColumnRead]
    units: list[UnitRow] = Field(description="Graded A first, then by on-time completion rate")
    total: UnitRow
    below_floor: list[BelowFloor]
    hotspots: list[Hotspot]
    categories: list[CategoryRow]
