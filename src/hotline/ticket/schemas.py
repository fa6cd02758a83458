"""What agents send and what readers get back."""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hotline.errors import Invalid
from hotline.kit import phone as phones
from hotline.kit.types import Code, LocalTime
from hotline.org.schemas import Line, Urgency


class Kind(StrEnum):
    consult = "consult"
    help = "help"
    complaint = "complaint"
    report = "report"
    suggestion = "suggestion"
    praise = "praise"
    other = "other"


class Status(StrEnum):
    triage = "triage"
    dispatched = "dispatched"
    return_requested = "return_requested"
    signed = "signed"
    arbitration = "arbitration"
    replied = "replied"
    closed = "closed"
    rework = "rework"


class Crs(StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"


# The states a ticket can climb the escalation ladder in (workflow.states: Action.escalate).
CLIMBING = ("dispatched", "signed", "rework", "return_requested")
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CallerIn(Strict):
    name: Annotated[Text, Field(max_length=50)] | None = None
    phone: Annotated[str, Field(max_length=32)] | None = None
    # None: decided by kind (a report 举报 is confidential by default).
    confidential: bool | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A Chinese number, normalised; another is refused, unless the context says to keep
        it as given (``{"phone": "as_given"}``: Open311, whose clients send what they have)."""
        if value is None:
            return None
        if (info.context or {}).get("phone") == "as_given":
            return phones.as_given(value)
        return phones.normalise(value)


class LocationIn(Strict):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    crs: Crs = Crs.wgs84
    address: Annotated[Text, Field(max_length=500)] | None = None
    address_id: Annotated[Text, Field(max_length=200)] | None = Field(
        default=None, description="The address's id in the sender's address register, kept"
    )
    grid_code: Code | None = None

    @model_validator(mode="after")
    def _pair(self) -> LocationIn:
        if (self.lat is None) != (self.lon is None):
            raise Invalid("纬度 lat 和经度 lon 须同时填写", en="lat and lon come together")
        return self


class TicketCreate(Strict):
    kind: Kind
    category: Code | None = Field(
        default=None,
        description="Without it the top suggestion (POST /v1/suggestions) is taken when its score "
        "reaches the threshold (route.category_suggested), else the ticket goes to triage with "
        "the top 3 as route.category_candidates",
    )
    urgency: Urgency = Urgency.normal
    line: Line = Line.main
    content: Annotated[Text, Field(max_length=4000)]
    caller: CallerIn = CallerIn()
    location: LocationIn = LocationIn()
    external_id: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,64}$")] | None = None


class CallerRead(BaseModel):
    name: str | None
    phone: str | None
    confidential: bool
    masked: bool = Field(description="True when name or phone were hidden from this caller")


class LocationRead(BaseModel):
    lat: float | None = Field(description="As given, in `crs`")
    lon: float | None
    crs: Crs
    wgs84: dict[str, float] | None = Field(description="The point normalised for routing")
    address: str | None
    address_id: str | None = Field(description="As given, e.g. Open311's address_id")
    grid_code: str | None


class RouteRead(BaseModel):
    method: str = Field(description="catalogue, grid_code, point, address, triage or manual")
    unit_code: str | None = None
    grid_code: str | None = None
    assignee_id: int | None = None
    assignee_name: str | None = Field(default=None, description="The grid worker it went to")
    rule_id: int | None = Field(default=None, description="The catalogue rule that decided")
    explanation: str = ""
    candidates: list[dict[str, Any]] = []
    category_suggested: dict[str, Any] | None = Field(
        default=None,
        description="For a ticket posted without a category: the suggestion (code, name, score, "
        "model_version, threshold, accepted)",
    )
    category_candidates: list[dict[str, Any]] = Field(
        default=[], description="The top 3 suggested categories {code, name, score}"
    )


class Deadlines(BaseModel):
    sign_due_at: LocalTime | None = None
    reply_due_at: LocalTime | None = None
    return_until: LocalTime | None = Field(default=None, description="End of the return window")
    callback_due_at: LocalTime | None = None
    triage_due_at: LocalTime | None = Field(
        default=None, description="Dispatch from triage by then (即时派单)"
    )
    ruling_due_at: LocalTime | None = Field(
        default=None, description="The confirmation group rules by then (in arbitration)"
    )
    escalation_due_at: LocalTime | None = Field(
        default=None,
        description="The unit of the rung the ticket climbed to acts by then, or it climbs on",
    )
    sign_overdue: bool = False
    reply_overdue: bool = False
    callback_overdue: bool = False
    triage_overdue: bool = False
    ruling_overdue: bool = False
    escalation_overdue: bool = False
    policies: dict[str, Any] = Field(default={}, description="The policy that set each deadline")
    calendar_unknown_years: list[int] = Field(
        default=[], description="Years counted Monday to Friday: no official calendar known"
    )


class TicketRead(BaseModel):
    id: int
    number: str
    status: Status
    kind: Kind
    category: str
    urgency: Urgency
    line: Line
    content: str
    caller: CallerRead
    location: LocationRead
    route: RouteRead
    deadlines: Deadlines
    designated: bool = Field(description="Owner named by the confirmation group; no returns")
    rework_count: int
    transfer_count: int = Field(description="Returns and re-dispatches without an owner")
    close_reason: str | None = Field(
        description="resolved, answered, merged, redirected or terminated"
    )
    merged_into: int | None
    possible_repeat_of: int | None = Field(
        description="An open ticket of the same caller, category and place"
    )
    extra_callers: list[CallerRead] = Field(description="Callers of tickets merged into this")
    reply: dict[str, Any] | None
    last_callback: dict[str, Any] | None
    escalation_level: int = Field(
        description="The rung of its ladder the ticket stands on; 0: none (escalation_rung says "
        "which kind)"
    )
    escalation_unit: str | None = Field(description="The unit of that rung, whose officers act")
    escalation_track: str | None = Field(
        description="The ladder it climbs: grid, department or enterprise"
    )
    escalation_rung: str | None = Field(
        description="village, township, county, department (its head), line or group"
    )
    ruling: dict[str, Any] | None = Field(
        description="The confirmation group's ruling in force: at, by, lead_unit, co_units, "
        "reasoning, rule_id"
    )
    co_handlers: list[str] = Field(description="Units a ruling named to co-handle it (协办)")
    supervision: dict[str, Any] | None
    staged: dict[str, Any] | None = Field(
        description="An approved staged answer (阶段性答复): plan, next_check, approved_by"
    )
    signed_at: LocalTime | None
    replied_at: LocalTime | None
    closed_at: LocalTime | None
    external_id: str | None
    imported: bool = Field(description="History brought by an import: no clocks, no webhooks")
    created_at: LocalTime
    updated_at: LocalTime
    version: int


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )


class Actor(BaseModel):
    role: str | None
    name: str | None


class EventRead(BaseModel):
    id: int
    at: LocalTime
    actor: Actor
    action: str
    from_status: str | None
    to_status: str | None
    details: dict[str, Any]


def _not_a_number(value: Any) -> Any:
    # Query strings like "0.5" would otherwise parse as Unix timestamps.
    if isinstance(value, str) and value.replace(".", "", 1).lstrip("-").isdigit():
        raise Invalid(
            "应为带时区的时间，如 2026-11-26T08:00:00+08:00",
            en="use ISO 8601 with an offset, e.g. 2026-11-26T08:00:00+08:00",
        )
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]


def _has_a_word(value: str) -> str:
    """A search needs a letter or a digit: punctuation and spaces alone find nothing."""
    if not any(unicodedata.category(c)[0] in "LN" for c in value):
        raise Invalid(
            "没有可搜索的词（只有标点或空格）",
            en="has no word to search for (only punctuation or spaces)",
        )
    return value


def _comma_list(value: Any) -> Any:
    """``status=signed,rework`` and ``status=signed&status=rework`` alike."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
    return value


class TicketFilters(BaseModel):
    """The filters of GET /v1/tickets, all optional and combined with AND; a flag true keeps
    only such tickets, false only the others. (Unknown names are kit.query's to refuse: the
    route's other parameters, limit and cursor, reach this model too.)"""

    q: Annotated[str, AfterValidator(_has_a_word)] | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Words that the content or the reply must all contain (jieba's cut of the"
        " text: 井盖 缺失, or 井盖缺失 as one)",
    )
    status: Annotated[list[Status], BeforeValidator(_comma_list)] | None = Field(
        default=None, description="One or several, repeated or comma-separated"
    )
    kind: Kind | None = None
    category: Code | None = None
    line: Line | None = None
    urgency: Urgency | None = None
    unit: Code | None = Field(default=None, description="The owning unit (a grid or department)")
    township: Code | None = Field(default=None, description="Tickets in this township")
    village: Code | None = Field(default=None, description="Tickets in this village")
    grid: Code | None = Field(default=None, description="The owning grid")
    overdue: bool | None = Field(
        default=None, description="Past the sign-for or reply deadline now"
    )
    escalated: bool | None = Field(default=None, description="Climbed the ladder (level above 0)")
    supervised: bool | None = Field(default=None, description="Under supervision (督办)")
    designated: bool | None = Field(default=None, description="Designated by the centre (指定)")
    repeat: bool | None = Field(default=None, description="Flagged as a possible repeat")
    imported: bool | None = Field(
        default=None, description="Brought by a history import (hotline tickets import)"
    )
    created_after: Instant | None = None
    created_before: Instant | None = None
    closed_after: Instant | None = None
    closed_before: Instant | None = None
