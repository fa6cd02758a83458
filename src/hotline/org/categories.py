"""The category catalogue as each process keeps it, read again when the ``categories``
generation moves (db.config_state)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.org import repository


@dataclass(frozen=True)
class Known:
    code: str
    name: str
    active: bool
    default_urgency: str | None = None


class Categories:
    def __init__(self) -> None:
        self._generation: int | None = None
        self._known: dict[str, Known] = {}

    async def get(self, session: AsyncSession, code: str | None, generation: int) -> Known | None:
        if generation != self._generation:
            rows = await repository.all_categories(session)
            self._known = {c.code: Known(c.code, c.name, c.active, c.default_urgency) for c in rows}
            self._generation = generation
        return self._known.get(code) if code is not None else None
