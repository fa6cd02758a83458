"""Action payloads (each a POST /v1/tickets/{id}/<action>) and queue pages."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, model_validator

from hotline.errors import Invalid
from hotline.kit.types import Id
from hotline.ticket.schemas import Code, LocalTime, TicketRead

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignIn(Strict):
    note: Note = ""


class NoteIn(Strict):
    text: Text
    photos: Annotated[list[HttpUrl], Field(max_length=20)] = []


class WhistleLevel(StrEnum):
    routine = "routine"
    key = "key"
    emergency = "emergency"


class WhistleIn(Strict):
    reason: Text
    level: WhistleLevel = WhistleLevel.routine
    members: Annotated[list[int], Field(max_length=50)] = []
    departments: Annotated[list[Code], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _someone(self) -> WhistleIn:
        if not self.members and not self.departments:
            raise Invalid(
                "至少要召集一名专属网格员或一个部门", en="summon at least one member or department"
            )
        return self


class ReportIn(Strict):
    note: Note = ""


class Outcome(StrEnum):
    resolved = "resolved"
    partly = "partly"
    unresolved = "unresolved"
    explained = "explained"  # answered with an explanation (政策解释)


class ReplyIn(Strict):
    text: Text
    outcome: Outcome = Outcome.resolved


class ReturnReason(StrEnum):
    not_our_area = "not_our_area"
    not_our_duty = "not_our_duty"
    wrong_category = "wrong_category"
    duplicate = "duplicate"
    other = "other"


class ReturnIn(Strict):
    reason_code: ReturnReason
    reason: Text


class DecisionIn(Strict):
    approve: bool
    note: Note = ""


class ReturnDecisionIn(DecisionIn):
    unit_code: Code | None = Field(
        default=None, description="Where an approved return goes; none: back to triage"
    )


class ExtensionIn(Strict):
    days: int = Field(ge=1, le=10)
    reason: Text


class ExtensionDecisionIn(DecisionIn):
    days: int | None = Field(default=None, ge=1, le=10, description="Fewer days than asked")


class DispatchIn(Strict):
    unit_code: Code = Field(description="A grid, department, village or township")
    assignee_id: Id | None = None
    category: Code | None = Field(
        default=None,
        description="The category it is dispatched as, when not the one it has (from triage: "
        "one of route.category_candidates, or any); recorded as a category_corrected event",
    )
    note: Note = ""
    override_reason: Annotated[Text, Field(max_length=500)] | None = Field(
        default=None,
        description="Why a department-duty matter (a catalogue rule to a department) goes to a "
        "grid, village or township instead; without it that dispatch is 409 naming the rule",
    )


class CategoryIn(Strict):
    category: Code = Field(description="The category the ticket should have")
    note: Note = ""


class CoReportIn(Strict):
    text: Text = Field(description="What this co-handling unit did: its part for the lead")


class StagedIn(Strict):
    plan: Text = Field(description="What will be done, and why it cannot be done in time")
    next_check: date = Field(description="The county date by which the owner reports again")


class TerminationReason(StrEnum):
    unreachable = "unreachable"  # 无法联系诉求人
    unlawful = "unlawful"  # 诉求不合法或无理
    repeated = "repeated"  # 重复诉求且无新情况


class TerminateIn(Strict):
    reason_code: TerminationReason
    reason: Text


class AnswerIn(Strict):
    text: Text


class Resolution(StrEnum):
    resolved = "resolved"
    partly = "partly"
    unresolved = "unresolved"


class Satisfaction(StrEnum):
    satisfied = "satisfied"
    basic = "basic"  # basically satisfied 基本满意
    unsatisfied = "unsatisfied"


class CallbackIn(Strict):
    reached: bool
    resolution: Resolution | None = None
    satisfaction: Satisfaction | None = None
    unit_at_fault: bool = False
    note: Note = ""

    @model_validator(mode="after")
    def _answers(self) -> CallbackIn:
        if self.reached and (self.resolution is None or self.satisfaction is None):
            raise Invalid(
                "回访联系上诉求人时，需填写解决情况 resolution 和满意度 satisfaction",
                en="a callback that reached the caller needs resolution and satisfaction",
            )
        return self


class MergeIn(Strict):
    into: Id = Field(description="The open ticket this one repeats")


class CloseReason(StrEnum):
    redirected = "redirected"  # to 110, the courts or another legal channel
    terminated = "terminated"


class CloseIn(Strict):
    reason: CloseReason
    note: Note = ""


class RequestRead(BaseModel):
    id: int
    kind: str
    status: str
    reason_code: str | None
    reason: str
    days: int | None
    requested_at: LocalTime
    ticket: TicketRead


class RequestPage(BaseModel):
    items: list[RequestRead]


class Assignment(BaseModel):
    type: str = Field(
        description="ticket; whistle: a summons addressed to the caller; left: the ticket left "
        "the caller's scope (since a `since` cursor), drop it"
    )
    change: int = Field(description="Position in the change order")
    ticket_id: int
    ticket: TicketRead | None = Field(
        description="The ticket as the caller may see it; null for left"
    )
    summons: dict[str, Any] | None = None


class AssignmentPage(BaseModel):
    items: list[Assignment]
    cursor: str = Field(description="Pass as `since` to get only what changes after this")
    more: bool = Field(description="True when more changes wait: poll again at once")
