"""``hotline serve --demo``: the demo county, its people and one API key per person.

Loaded once per database and never unless asked. The keys are minted anew for every fresh data
directory and written to ``demo-keys.json`` (mode 0600) as a list of ``{name, role, unit, key}``
(workers, members and officers also carry their ``staff_id``). Officers: one for the county
(督办), each township, each village or community and each department.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import repository as auth_repository
from hotline.auth.roles import Role
from hotline.auth.service import create_key
from hotline.config import Settings
from hotline.db.engine import create_engine, create_sessionmaker
from hotline.db.session import unit_of_work
from hotline.demo import people
from hotline.demo.county import CONFIRMATION_GROUP, DEPARTMENTS, demo_county
from hotline.kit.clock import utcnow
from hotline.org import catalogue, staff, units
from hotline.org import repository as org_repository
from hotline.org.schemas import RuleCreate, StaffCreate, StaffRole, UnitCreate, UnitKind

DEMO_KEYS_FILE = "demo-keys.json"
COUNTY_CODE = "210124"

CENTRE_PEOPLE = [
    ("王晓梅", Role.agent),
    ("李建国", Role.dispatcher),
    ("赵德明", Role.arbiter),
    ("孙丽娟", Role.viewer),
    ("周志强", Role.admin),
]


async def _already_loaded(session: AsyncSession, path: Path) -> bool:
    """Loaded when the keys file exists and its keys are this database's."""
    try:
        listed = json.loads(path.read_text(encoding="utf-8"))  # noqa: ASYNC240 - tiny file
        prefix = listed[0]["key"].split("_", 2)[1]
    except (OSError, ValueError, LookupError, AttributeError):
        return False
    return await auth_repository.key_exists(session, prefix)


async def _organisation(session: AsyncSession, now: datetime) -> list[tuple[str, str]]:
    """County, departments, the confirmation group, catalogue; returns (code, kind) of every
    unit people work in, grids first."""
    county = demo_county()
    await units.import_county(session, county, now=now)
    for dept in DEPARTMENTS:
        await units.create_unit(
            session,
            UnitCreate(
                code=dept.code,
                name=dept.name,
                kind=UnitKind.department,
                parent_code=COUNTY_CODE,
                aliases=list(dept.aliases),
            ),
            now=now,
        )
    group_code, group_name = CONFIRMATION_GROUP
    await units.create_unit(
        session,
        UnitCreate(code=group_code, name=group_name, kind=UnitKind.group, parent_code=COUNTY_CODE),
        now=now,
    )
    for category, suffix in people.CATEGORY_RULES.items():
        await catalogue.create_rule(
            session,
            RuleCreate(
                category=category,
                unit_code=f"{COUNTY_CODE}-D-{suffix}",
                note="部门职责事项直派部门",
            ),
            now=now,
        )
    for code in people.AFTER_PHOTO_CATEGORIES:
        needs_photo = await org_repository.category(session, code)
        if needs_photo is not None:
            needs_photo.requires_after_photo = True
    await catalogue.create_rule(
        session,
        RuleCreate(
            line="enterprise",
            unit_code=f"{COUNTY_CODE}-D-{people.ENTERPRISE_LINE_DEPARTMENT}",
            priority=10,
            note="12345-9 迎且专线由营商局承办",
        ),
        now=now,
    )
    places = [(f["properties"]["code"], f["properties"]["kind"]) for f in county["features"]]
    places += [(d.code, "department") for d in DEPARTMENTS]
    order = {"grid": 0, "department": 1, "county": 2, "township": 3, "village": 4}
    return sorted(places, key=lambda p: order[p[1]])


async def _people(
    session: AsyncSession, places: list[tuple[str, str]], now: datetime
) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = []
    for name, role in CENTRE_PEOPLE:
        minted = await create_key(session, name=name, role=role)
        listed.append({"name": name, "role": role.value, "unit": None, "key": minted.key})
    grids = [(code, kind) for code, kind in places if kind == "grid"]
    n = 0
    for grid_code, _ in grids:
        n += 1
        worker = await staff.create_staff(
            session,
            StaffCreate(
                name=people.person_name(n),
                role=StaffRole.worker,
                unit_code=grid_code,
                phone=people.phone(n),
                on_duty=True,
            ),
            now=now,
        )
        listed.append(await _key(session, worker.name, Role.worker, grid_code, worker.id))
    for d, dept in enumerate(DEPARTMENTS):
        for m in range(people.MEMBERS_PER_DEPARTMENT):
            n += 1
            member = await staff.create_staff(
                session,
                StaffCreate(
                    name=people.person_name(n),
                    role=StaffRole.member,
                    unit_code=dept.code,
                    phone=people.phone(n),
                    on_duty=True,
                ),
                now=now,
            )
            # Each member serves every other grid, offset per department and member.
            for g, (grid_code, _) in enumerate(grids):
                if (g + d + m) % people.MEMBERS_PER_DEPARTMENT == 0:
                    await staff.attach_member(session, grid_code, member.id, now=now)
            listed.append(await _key(session, member.name, Role.member, dept.code, member.id))
    for code, kind in places:
        if kind == "grid":
            continue
        n += 1
        officer = await staff.create_staff(
            session,
            StaffCreate(
                name=people.person_name(n),
                role=StaffRole.officer,
                unit_code=code,
                phone=people.phone(n),
                on_duty=True,
            ),
            now=now,
        )
        listed.append(await _key(session, officer.name, Role.officer, code, officer.id))
    return listed


async def _key(
    session: AsyncSession, name: str, role: Role, unit: str, staff_id: int
) -> dict[str, Any]:
    minted = await create_key(session, name=name, role=role, unit_code=unit, staff_id=staff_id)
    return {"name": name, "role": role.value, "unit": unit, "staff_id": staff_id, "key": minted.key}


async def _rekey(session: AsyncSession) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = []
    for name, role in CENTRE_PEOPLE:
        minted = await create_key(session, name=name, role=role)
        listed.append({"name": name, "role": role.value, "unit": None, "key": minted.key})
    for person in await org_repository.field_staff(session):
        listed.append(
            await _key(session, person.name, Role(person.role), person.unit_code, person.id)
        )
    return listed


def _write_keys(path: Path, listed: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(listed, fh, ensure_ascii=False, indent=2)
    tmp.replace(path)


async def load_into(session: AsyncSession, path: Path) -> bool:
    """Load the demo in the caller's transaction unless it is there; True if it was loaded.

    The keys file is written before the transaction commits: a crash in between leaves a file
    whose keys this database does not know, and the next ``--demo`` starts over.
    """
    if await _already_loaded(session, path):
        return False
    now = utcnow()
    if await org_repository.unit(session, COUNTY_CODE) is not None:
        # The database has the demo but this data directory lost its keys: new keys for the
        # same people (keys are stored hashed and cannot be recovered).
        listed = await _rekey(session)
    else:
        places = await _organisation(session, now)
        listed = await _people(session, places, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_keys(path, listed)
    return True


async def load_demo(settings: Settings) -> tuple[Path, bool]:
    """Load the demo into the configured database; returns the keys file and whether it was new."""
    path = settings.data_dir / DEMO_KEYS_FILE
    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            created = await load_into(session, path)
        return path, created
    finally:
        await engine.dispose()
