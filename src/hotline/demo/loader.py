"""``hotline serve --demo``: demo people and one API key per role, once per data directory.

The keys are minted anew for every fresh data directory and written to ``demo-keys.json``
(mode 0600) as a list of ``{name, role, unit, key}``; nothing demo is loaded unless asked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import ApiKey
from hotline.auth.roles import Role
from hotline.auth.service import create_key
from hotline.config import Settings
from hotline.db.engine import create_engine, create_sessionmaker
from hotline.db.session import unit_of_work

DEMO_KEYS_FILE = "demo-keys.json"

# The hotline centre and the dashboard; field people come with the demo county.
CENTRE_PEOPLE = [
    ("王晓梅", Role.agent, None),
    ("李建国", Role.dispatcher, None),
    ("赵德明", Role.arbiter, None),
    ("孙丽娟", Role.viewer, None),
    ("周志强", Role.admin, None),
]


async def _already_loaded(session: AsyncSession, path: Path) -> bool:
    """Loaded when the keys file exists and its keys are this database's."""
    try:
        people = json.loads(path.read_text(encoding="utf-8"))  # noqa: ASYNC240 - tiny file
        prefix = people[0]["key"].split("_", 2)[1]
    except (OSError, ValueError, LookupError, AttributeError):
        return False
    return await session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None


async def _mint(session: AsyncSession) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    for name, role, unit in CENTRE_PEOPLE:
        minted = await create_key(session, name=name, role=role, unit_code=unit)
        people.append({"name": name, "role": role.value, "unit": unit, "key": minted.key})
    return people


def _write_keys(path: Path, people: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(people, fh, ensure_ascii=False, indent=2)
    tmp.replace(path)


async def load_demo(settings: Settings) -> tuple[Path, bool]:
    """Load the demo unless this database has it; returns the keys file and whether it was new.

    The keys file is written before the transaction commits: a crash in between leaves a file
    with keys that do not work and no demo, and the next ``--demo`` starts over.
    """
    path = settings.data_dir / DEMO_KEYS_FILE
    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            if await _already_loaded(session, path):
                return path, False
            people = await _mint(session)
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            _write_keys(path, people)
        return path, True
    finally:
        await engine.dispose()
