"""HTTP for the organisation: units, grids, staff and members, the dispatch catalogue."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status

from hotline.auth.dependencies import Admin, AnyRole, CentreReader
from hotline.auth.roles import Role
from hotline.config import Settings
from hotline.db.session import ReadSession, Session
from hotline.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    Unprocessable,
    responses,
)
from hotline.kit import cursor as cursors
from hotline.kit.clock import Now
from hotline.kit.types import Id
from hotline.org import catalogue, category_admin, repository, simplify, staff, units
from hotline.org.models import Staff, Unit
from hotline.org.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    GridCollection,
    GridFeature,
    GridUpdate,
    ImportResult,
    MemberAttach,
    RuleCreate,
    RuleRead,
    RuleUpdate,
    StaffCreate,
    StaffRead,
    StaffRole,
    StaffUpdate,
    UnitCreate,
    UnitKind,
    UnitPage,
    UnitRead,
    UnitUpdate,
)

router = APIRouter(prefix="/v1", tags=["organisation"])
READ = responses(Unauthenticated, Forbidden)
WRITE = responses(Unauthenticated, Forbidden, NotFound, Conflict, Unprocessable)
Limit = Annotated[int, Query(ge=1, le=1000)]
Cursor = Annotated[str | None, Query(max_length=512)]
# The default; kit/bodylimit.py refuses a larger import body with 413 before it reaches here.
MAX_IMPORT_BYTES: int = Settings.model_fields["max_import_bytes"].default


def unit_read(u: Unit) -> UnitRead:
    return UnitRead(
        code=u.code,
        name=u.name,
        kind=UnitKind(u.kind),
        parent_code=u.parent_code,
        aliases=u.aliases,
        default_grid_code=u.default_grid_code,
        has_boundary=u.boundary is not None,
        active=u.active,
        created_at=u.created_at,
        updated_at=u.updated_at,
    )


def _code(u: Unit) -> list[Any]:
    return [u.code]


def _after(cursor: str | None, kind: str) -> Any:
    return None if cursor is None else cursors.decode(cursor, kind=kind, arity=1)[0]


@router.get("/units", response_model=UnitPage, summary="List units", responses=READ)
async def list_units(
    session: ReadSession,
    principal: CentreReader,
    kind: UnitKind | None = None,
    parent_code: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 200,
    cursor: Cursor = None,
) -> UnitPage:
    after = _after(cursor, "units")
    rows = await repository.units_page(
        session,
        kind=kind,
        parent_code=parent_code,
        after=str(after) if after else None,
        limit=limit,
    )
    kept, next_cursor = cursors.page(rows, limit, kind="units", key=_code)
    return UnitPage(items=[unit_read(u) for u in kept], next_cursor=next_cursor)


@router.get(
    "/units/{code}",
    response_model=UnitRead,
    summary="Read a unit",
    responses=responses(Unauthenticated, Forbidden, NotFound),
)
async def read_unit(code: str, session: ReadSession, principal: CentreReader) -> UnitRead:
    unit = await repository.unit(session, code)
    if unit is None:
        raise NotFound(f"没有编码为 {code} 的单位", en=f"No unit {code}")
    return unit_read(unit)


@router.post(
    "/units",
    response_model=UnitRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a unit (admin)",
    responses=WRITE,
)
async def create_unit(data: UnitCreate, session: Session, principal: Admin, now: Now) -> UnitRead:
    return unit_read(await units.create_unit(session, data, now=now))


@router.patch(
    "/units/{code}", response_model=UnitRead, summary="Change a unit (admin)", responses=WRITE
)
async def update_unit(
    code: str, data: UnitUpdate, session: Session, principal: Admin, now: Now
) -> UnitRead:
    return unit_read(await units.update_unit(session, code, data, now=now))


IMPORT_DESCRIPTION = f"""{units.IMPORT_RULES}

A body over `HOTLINE_MAX_IMPORT_BYTES` ({MAX_IMPORT_BYTES // 2**20} MiB by default) is refused \
with 413 before it is read; `hotline grids import FILE` applies the same rules without it."""


@router.post(
    "/grids/import",
    response_model=ImportResult,
    summary="Import a county file (admin)",
    description=IMPORT_DESCRIPTION,
    responses=responses(Unauthenticated, Forbidden, PayloadTooLarge, units.ImportRejected),
)
async def import_grids(
    session: Session,
    principal: Admin,
    doc: Annotated[dict[str, Any], Body(description="A GeoJSON FeatureCollection")],
    now: Now,
) -> ImportResult:
    counts = await units.import_county(session, doc, now=now)
    return ImportResult(features=counts.features, created=counts.created, updated=counts.updated)


def _person(s: Staff, *, with_phone: bool) -> dict[str, Any]:
    person: dict[str, Any] = {
        "id": s.id,
        "name": s.name,
        "unit_code": s.unit_code,
        "active": s.active,
        "on_duty": s.on_duty,
    }
    if with_phone:
        person["phone"] = s.phone
    return person


def grid_feature(
    u: Unit,
    workers: list[Staff] | None = None,
    members: list[Staff] | None = None,
    *,
    geometry: dict[str, Any] | None,
    with_phone: bool = False,
) -> GridFeature:
    props: dict[str, Any] = {
        "code": u.code,
        "name": u.name,
        "parent_code": u.parent_code,
        "aliases": u.aliases,
        "active": u.active,
    }
    if workers is not None:
        props["workers"] = [_person(s, with_phone=with_phone) for s in workers]
    if members is not None:
        props["members"] = [_person(s, with_phone=with_phone) for s in members]
    return GridFeature(id=u.code, properties=props, geometry=geometry)


@router.get("/grids", response_model=GridCollection, summary="Grids as GeoJSON", responses=READ)
async def list_grids(
    session: ReadSession,
    principal: AnyRole,
    parent_code: Annotated[str | None, Query(max_length=32, description="Village code")] = None,
    limit: Limit = 200,
    cursor: Cursor = None,
) -> GridCollection:
    """A FeatureCollection of grid boundaries (no personal data: the dashboard draws it).
    Boundaries are simplified for drawing (within 3 m; at most 500 positions each); routing
    uses them as stored, and `GET /v1/grids/{code}?full=true` reads one as stored."""
    after = _after(cursor, "grids")
    rows = await repository.units_page(
        session,
        kind="grid",
        parent_code=parent_code,
        after=str(after) if after else None,
        limit=limit,
    )
    kept, next_cursor = cursors.page(rows, limit, kind="grids", key=_code)
    drawn = await asyncio.to_thread(simplify.for_map_all, [u.boundary for u in kept])
    features = [grid_feature(u, geometry=g) for u, g in zip(kept, drawn, strict=True)]
    return GridCollection(features=features, next_cursor=next_cursor)


@router.get(
    "/grids/{code}",
    response_model=GridFeature,
    summary="One grid with its people",
    responses=responses(Unauthenticated, Forbidden, NotFound),
)
async def read_grid(
    code: str,
    session: ReadSession,
    principal: AnyRole,
    full: Annotated[
        bool, Query(description="The boundary as stored, not as simplified for the map")
    ] = False,
) -> GridFeature:
    """The grid's feature; its workers and attached members for everyone but the viewer, with
    phones for the hotline centre. The boundary is the map's (as in `GET /v1/grids`) unless
    `full`."""
    unit = await units.grid(session, code)
    geometry = unit.boundary if full else simplify.for_map(unit.boundary)
    if principal.role is Role.viewer:
        return grid_feature(unit, geometry=geometry)
    workers, members = await repository.staff_of_grid(session, code)
    with_phone = principal.role is not Role.worker
    return grid_feature(unit, workers, members, geometry=geometry, with_phone=with_phone)


@router.patch(
    "/grids/{code}", response_model=GridFeature, summary="Change a grid (admin)", responses=WRITE
)
async def update_grid(
    code: str, data: GridUpdate, session: Session, principal: Admin, now: Now
) -> GridFeature:
    """A new boundary must be valid and overlap no other grid; routing in every API process
    uses it for the next ticket. The answer holds the boundary as stored."""
    await units.grid(session, code)
    unit = await units.update_unit(
        session, code, UnitUpdate(**data.model_dump(exclude_unset=True)), now=now
    )
    return grid_feature(unit, geometry=unit.boundary)


@router.post(
    "/grids/{code}/members",
    response_model=StaffRead,
    status_code=status.HTTP_201_CREATED,
    summary="Attach a member (admin)",
    responses=WRITE,
)
async def attach_member(
    code: str, data: MemberAttach, session: Session, principal: Admin, now: Now
) -> StaffRead:
    await units.grid(session, code)
    person = await staff.attach_member(session, code, data.staff_id, now=now)
    return await _staff_read(session, person)


@router.delete(
    "/grids/{code}/members/{staff_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Detach a member (admin)",
    responses=WRITE,
)
async def detach_member(code: str, staff_id: Id, session: Session, principal: Admin) -> Response:
    await staff.detach_member(session, code, staff_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _staff_read(session: Any, s: Staff) -> StaffRead:
    grids = await repository.grids_of_member(session, [s.id])
    return _staff(s, grids)


def _staff(s: Staff, grids: dict[int, list[str]]) -> StaffRead:
    return StaffRead.model_validate(s).model_copy(update={"grids": grids.get(s.id, [])})


@router.get("/staff", response_model=list[StaffRead], summary="List staff", responses=READ)
async def list_staff(
    session: ReadSession,
    principal: CentreReader,
    unit_code: Annotated[str | None, Query(max_length=32)] = None,
    role: StaffRole | None = None,
    after: Annotated[int, Query(ge=0, description="Return staff with a larger id")] = 0,
    limit: Limit = 200,
) -> list[StaffRead]:
    rows = await repository.staff_page(
        session, unit_code=unit_code, role=role, after=after, limit=limit
    )
    grids = await repository.grids_of_member(session, [s.id for s in rows[:limit]])
    return [_staff(s, grids) for s in rows[:limit]]


@router.get(
    "/staff/{staff_id}",
    response_model=StaffRead,
    summary="Read a staff member",
    responses=responses(Unauthenticated, Forbidden, NotFound),
)
async def read_staff(staff_id: Id, session: ReadSession, principal: CentreReader) -> StaffRead:
    person = await repository.staff(session, staff_id)
    if person is None:
        raise NotFound(f"没有编号为 {staff_id} 的工作人员", en=f"No staff {staff_id}")
    return await _staff_read(session, person)


@router.post(
    "/staff",
    response_model=StaffRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a staff member (admin)",
    responses=WRITE,
)
async def create_staff(
    data: StaffCreate, session: Session, principal: Admin, now: Now
) -> StaffRead:
    return await _staff_read(session, await staff.create_staff(session, data, now=now))


@router.patch(
    "/staff/{staff_id}",
    response_model=StaffRead,
    summary="Change a staff member (admin)",
    responses=WRITE,
)
async def update_staff(
    staff_id: Id, data: StaffUpdate, session: Session, principal: Admin, now: Now
) -> StaffRead:
    person = await staff.update_staff(session, staff_id, data, now=now)
    return await _staff_read(session, person)


@router.get(
    "/catalogue-rules",
    response_model=list[RuleRead],
    tags=["catalogue"],
    summary="The dispatch catalogue",
    responses=READ,
)
async def list_rules(session: ReadSession, principal: CentreReader) -> list[RuleRead]:
    return [RuleRead.model_validate(r) for r in await repository.rules(session)]


@router.post(
    "/catalogue-rules",
    response_model=RuleRead,
    status_code=status.HTTP_201_CREATED,
    tags=["catalogue"],
    summary="Add a catalogue rule (admin)",
    responses=WRITE,
)
async def create_rule(data: RuleCreate, session: Session, principal: Admin, now: Now) -> RuleRead:
    """A rule routes tickets matching every field it sets (category, line, area: the ticket lies
    in that unit or below) to `unit_code`. The most specific matching rule wins, then the
    higher priority. Department-duty matters go straight to the department."""
    return RuleRead.model_validate(await catalogue.create_rule(session, data, now=now))


@router.patch(
    "/catalogue-rules/{rule_id}",
    response_model=RuleRead,
    tags=["catalogue"],
    summary="Change a catalogue rule (admin)",
    responses=WRITE,
)
async def update_rule(
    rule_id: Id, data: RuleUpdate, session: Session, principal: Admin, now: Now
) -> RuleRead:
    return RuleRead.model_validate(await catalogue.update_rule(session, rule_id, data, now=now))


@router.delete(
    "/catalogue-rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["catalogue"],
    summary="Delete a catalogue rule (admin)",
    responses=WRITE,
)
async def delete_rule(rule_id: Id, session: Session, principal: Admin) -> Response:
    await catalogue.delete_rule(session, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/categories/{code}",
    response_model=CategoryRead,
    tags=["catalogue"],
    summary="Read a category",
    responses=responses(Unauthenticated, NotFound),
)
async def read_category(code: str, session: ReadSession, principal: AnyRole) -> CategoryRead:
    """Deactivated ones too (`active` false): their tickets keep them."""
    category = await repository.category(session, code)
    if category is None:
        raise NotFound(f"类别 {code} 不存在", en=f"No category {code}")
    return CategoryRead.model_validate(category)


@router.post(
    "/categories",
    response_model=CategoryRead,
    status_code=status.HTTP_201_CREATED,
    tags=["catalogue"],
    summary="Add a category (admin)",
    responses=WRITE,
)
async def create_category(
    data: CategoryCreate, session: Session, principal: Admin, now: Now, response: Response
) -> CategoryRead:
    """409 when the code exists; 422 for an unknown parent or duty unit. A duty unit becomes a
    catalogue rule (source `category`) routing the category's tickets to it. Every API process
    offers the category at its next request."""
    category = await category_admin.create(session, data, now=now)
    response.headers["Location"] = f"/v1/categories/{category.code}"
    return CategoryRead.model_validate(category)


@router.patch(
    "/categories/{code}",
    response_model=CategoryRead,
    tags=["catalogue"],
    summary="Change a category (admin)",
    responses=WRITE,
)
async def update_category(
    code: str, data: CategoryUpdate, session: Session, principal: Admin, now: Now
) -> CategoryRead:
    """Name, group, description, parent (never one below it), keywords, duty unit, default
    urgency; `active: false` deactivates it: intake refuses it for new tickets (422), its
    tickets keep it."""
    return CategoryRead.model_validate(await category_admin.update(session, code, data, now=now))
