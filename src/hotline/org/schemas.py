"""Organisation payloads: units, grids (GeoJSON), staff, members, catalogue rules."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from hotline.kit import phone as phones
from hotline.kit.patch import refuse_nulls
from hotline.kit.types import Code, FromRow, Id, LocalTime

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Aliases = Annotated[list[Name], Field(max_length=50)]


class Line(StrEnum):
    """The hotline's lines: the catalogue routes by line, tickets arrive on one."""

    main = "main"  # 12345
    enterprise = "enterprise"  # 12345-9 迎且
    relief = "relief"  # 12345-5 解纾暖


class UnitKind(StrEnum):
    county = "county"
    township = "township"  # 乡镇/街道
    village = "village"  # 村/社区
    grid = "grid"  # 网格
    department = "department"  # 部门
    group = "group"  # 疑难问题确责小组


class StaffRole(StrEnum):
    worker = "worker"  # 专职网格员, belongs to a grid
    member = "member"  # 专属网格员, belongs to a department
    # Staff of a unit above the grid: a village or community (书记、主任), a township or street
    # (值班、分管领导), a department (负责人、联络员) or the county (督办).
    officer = "officer"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Geometry(BaseModel):
    """A GeoJSON Polygon or MultiPolygon in WGS-84 lon/lat; foreign members (`bbox` …) are
    accepted and not stored."""

    # Stored, a foreign member could be any JSON, nested deep enough to break every grid read.
    model_config = ConfigDict(extra="ignore")
    type: Annotated[str, StringConstraints(pattern="^(Polygon|MultiPolygon)$")]
    coordinates: list[Any]


class UnitCreate(Strict):
    code: Code
    name: Name
    kind: UnitKind
    parent_code: Code | None = None
    aliases: Aliases = []
    boundary: Geometry | None = None
    default_grid_code: Code | None = None


class UnitUpdate(Strict):
    _nulls = refuse_nulls({"name", "aliases", "active"})
    name: Name | None = None
    parent_code: Code | None = None
    aliases: Aliases | None = None
    boundary: Geometry | None = None
    default_grid_code: Code | None = None
    active: bool | None = None


class UnitRead(BaseModel):
    code: str
    name: str
    kind: UnitKind
    parent_code: str | None
    aliases: list[str]
    default_grid_code: str | None
    has_boundary: bool
    active: bool
    created_at: LocalTime
    updated_at: LocalTime


class UnitPage(BaseModel):
    items: list[UnitRead]
    next_cursor: str | None


class ImportProblem(BaseModel):
    index: int = Field(description="Feature index in the file; -1 for the file itself")
    code: str | None
    problem: str


class ImportResult(BaseModel):
    features: int
    created: int
    updated: int


class GridFeature(BaseModel):
    type: str = "Feature"
    id: str
    properties: dict[str, Any]
    geometry: dict[str, Any] | None


class GridCollection(BaseModel):
    type: str = "FeatureCollection"
    features: list[GridFeature]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class GridUpdate(Strict):
    _nulls = refuse_nulls({"name", "aliases", "boundary"})
    name: Name | None = None
    aliases: Aliases | None = None
    boundary: Geometry | None = None


class StaffCreate(Strict):
    name: Name
    role: StaffRole
    unit_code: Code
    phone: Annotated[str, Field(max_length=32)] | None = None
    active: bool = True
    on_duty: bool = False

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else phones.normalise(value)


class StaffUpdate(Strict):
    _nulls = refuse_nulls({"name", "unit_code", "active", "on_duty"})
    name: Name | None = None
    unit_code: Code | None = None
    phone: Annotated[str, Field(max_length=32)] | None = None
    active: bool | None = None
    on_duty: bool | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else phones.normalise(value)


class StaffRead(FromRow):
    id: int
    name: str
    role: StaffRole
    unit_code: str
    phone: str | None
    active: bool
    on_duty: bool
    grids: list[str] = Field(default=[], description="Grids a member is attached to")
    created_at: LocalTime
    updated_at: LocalTime


class MemberAttach(Strict):
    staff_id: Id


class RuleCreate(Strict):
    category: Code | None = None
    line: Line | None = None
    area_code: Code | None = Field(default=None, description="Township, village or grid")
    unit_code: Code = Field(description="The handling unit")
    priority: int = Field(default=0, ge=-1000, le=1000)
    note: Annotated[str, Field(max_length=500)] = ""


class RuleUpdate(Strict):
    _nulls = refuse_nulls({"unit_code", "priority", "note", "active"})
    category: Code | None = None
    line: Line | None = None
    area_code: Code | None = None
    unit_code: Code | None = None
    priority: int | None = Field(default=None, ge=-1000, le=1000)
    note: Annotated[str, Field(max_length=500)] | None = None
    active: bool | None = None


class RuleRead(FromRow):
    id: int
    category: str | None = Field(validation_alias="category_code")
    line: str | None
    area_code: str | None
    unit_code: str
    priority: int
    note: str
    source: str
    active: bool
    created_at: LocalTime
    updated_at: LocalTime


class Urgency(StrEnum):
    """How urgent an appeal is (tickets and the catalogue's default urgencies)."""

    emergency = "emergency"  # danger to life or property
    utility = "utility"  # water, power, gas, heating
    normal = "normal"


Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Keywords = Annotated[list[Keyword], Field(max_length=100)]


class CategoryCreate(Strict):
    code: Code = Field(description="Stable; tickets and catalogue rules name it")
    name: Name
    name_en: Name | None = Field(default=None, description="Default: the code")
    group: Name | None = Field(default=None, description="Default: the parent's group, or name")
    description: Annotated[str, Field(max_length=1000)] = ""
    parent: Code | None = Field(default=None, description="The category above this one")
    keywords: Keywords = []
    duty_unit: Code | None = Field(
        default=None,
        description="The unit on duty for it: a catalogue rule (source `category`) routes its "
        "tickets there",
    )
    default_urgency: Urgency | None = Field(
        default=None, description="The urgency of a ticket that gives none"
    )


class CategoryUpdate(Strict):
    _nulls = refuse_nulls(
        {"name", "name_en", "group", "description", "keywords", "active", "requires_after_photo"}
    )
    name: Name | None = None
    name_en: Name | None = None
    group: Name | None = None
    description: Annotated[str, Field(max_length=1000)] | None = None
    parent: Code | None = Field(default=None, description="null: a top-level category")
    keywords: Keywords | None = None
    duty_unit: Code | None = Field(default=None, description="null: no unit on duty")
    default_urgency: Urgency | None = Field(default=None, description="null: normal")
    active: bool | None = Field(
        default=None,
        description="false: no longer offered for new tickets; its tickets keep it",
    )
    requires_after_photo: bool | None = Field(
        default=None, description="A reply needs an `after` photo (attachments)"
    )


class CategoryRead(FromRow):
    code: str
    name: str
    name_en: str
    group: str = Field(validation_alias="group_name")
    parent: str | None = Field(validation_alias="parent_code")
    duty_unit: str | None = Field(validation_alias="duty_unit_code")
    default_urgency: Urgency | None
    active: bool = Field(description="false: no longer offered for new tickets")
    description: str
    keywords: list[str]
    # Catalogue data: a reply needs an `after` photo of the current work round.
    requires_after_photo: bool = False
