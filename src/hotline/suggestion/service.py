"""Suggestions as a service: the active model as this process keeps it, answers from it, and
what intake takes from it.

Every process serves the active row of ``suggestion_model``: it reads the active version at
most every ``CHECK_EVERY`` seconds (one indexed read) and loads a new one when it moved, so a
model trained or chosen anywhere is served everywhere within a few seconds. Before any model
is stored, every process builds the same seed model from the catalogue (version 0), again when
the catalogue changes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import config_state
from hotline.kit.scrub import MASK, scrub
from hotline.org import repository as org_repository
from hotline.suggestion import model as ml
from hotline.suggestion import repository, urgency
from hotline.suggestion.models import TicketSuggestion

log = logging.getLogger(__name__)
CHECK_EVERY = 2.0
TOP_CATEGORIES = 5
TOP_UNITS = 5
TOP_SIMILAR = 5
EXCERPT = 120
# A reply names people the ticket's callers are not (王先生 of the neighbour, an imported
# ticket with no caller): a surname with 先生, 女士, 师傅 … is masked in an excerpt.
_HONORIFIC = re.compile(r"[\u4e00-\u9fff](?:先生|女士|小姐|师傅|大爷|大妈|阿姨)")


@dataclass(frozen=True)
class Loaded:
    """A model as served: its version (0: the catalogue's seed, not stored), when it was
    trained, on how many tickets, and the catalogue's active categories' names."""

    version: int
    kind: str
    trained_at: datetime | None
    ticket_count: int
    model: ml.Model
    names: dict[str, str]

    def ranked(self, text: str) -> tuple[Any, list[tuple[str, float]]]:
        """The text's vector and every active category with its score, best first."""
        vector = self.model.vector(text)
        return vector, [(c, p) for c, p in self.model.scores(vector) if c in self.names]


@dataclass(frozen=True)
class Suggested:
    """What intake takes from a suggestion for a ticket posted without a category."""

    code: str
    name: str
    score: float
    model_version: int
    threshold: float
    candidates: list[dict[str, Any]]  # the top three {code, name, score}

    @property
    def accepted(self) -> bool:
        return self.score >= self.threshold

    def route_field(self) -> dict[str, Any]:
        """``route.category_suggested``."""
        return {
            "code": self.code,
            "name": self.name,
            "score": round(self.score, 4),
            "model_version": self.model_version,
            "threshold": self.threshold,
            "accepted": self.accepted,
        }


class Suggester:
    """The process's active model (app.state.suggestions)."""

    def __init__(
        self, threshold: float, *, check_every: float = CHECK_EVERY, clock: Callable[[], float]
    ) -> None:
        self.threshold = threshold
        self._check_every = check_every
        self._clock = clock
        self._checked = -float("inf")
        self._loaded: Loaded | None = None
        self._categories = -1
        self._version = -1  # the active version last seen (what was loaded may be the seed)
        self._lock = asyncio.Lock()

    async def current(self, session: AsyncSession) -> Loaded:
        """The active model, its version checked if the last check is older than
        ``check_every`` seconds; loaded (off the event loop) when it moved."""
        loaded = self._loaded
        if loaded is not None and self._clock() - self._checked < self._check_every:
            return loaded
        async with self._lock:
            if self._loaded is not None and self._clock() - self._checked < self._check_every:
                return self._loaded
            version = await repository.active_version(session) or 0
            categories = (await config_state.read(session)).categories
            if self._loaded is None or version != self._version or categories != self._categories:
                self._loaded = await _load(session, version)
                self._version, self._categories = version, categories
            self._checked = self._clock()
            assert self._loaded is not None
            return self._loaded

    async def for_intake(self, session: AsyncSession, text: str) -> Suggested | None:
        """The top suggestion for a new ticket's text, with the top three as candidates;
        None when no active category scores at all."""
        loaded = await self.current(session)
        _, ranked = loaded.ranked(text)
        if not ranked:
            return None
        top = [{"code": c, "name": loaded.names[c], "score": round(p, 4)} for c, p in ranked[:3]]
        code, score = ranked[0]
        return Suggested(code, loaded.names[code], score, loaded.version, self.threshold, top)


def _ready(blob: bytes) -> ml.Model:
    """The stored model, used once: jieba reads its dictionary at its first text (about a
    second), which should not happen in a request."""
    model = ml.loads(blob)
    model.vector("停水")
    return model


async def _load(session: AsyncSession, version: int) -> Loaded:
    rows = await org_repository.all_categories(session)
    names = {c.code: c.name for c in rows if c.active}
    if version:
        row = await repository.model(session, version)
        if row is not None:
            try:
                model = await asyncio.to_thread(_ready, row.blob)
            except Exception:  # unpickling fails in many ways (struct, pickle, import errors)
                # A model of another version of hotline: serve the seed, say so once.
                log.exception("suggestion model %d cannot be loaded; serving the seed", version)
            else:
                return Loaded(row.version, row.kind, row.trained_at, row.ticket_count, model, names)
    seed = ml.seed_examples((c.code, c.name, c.description, c.keywords) for c in rows if c.active)
    model = await asyncio.to_thread(ml.train, [], seed)
    return Loaded(0, "seed", None, 0, model, names)


async def suggest(session: AsyncSession, loaded: Loaded, content: str) -> dict[str, Any]:
    """The answer of POST /v1/suggestions for ``content`` (schemas.SuggestionRead's fields):
    top categories, owner units, urgency, similar closed tickets (their replies scrubbed of
    names, phones and ID numbers) and the model. Reads unit names and the similar tickets."""
    vector, ranked = loaded.ranked(content)
    units = loaded.model.owner_units(ranked, TOP_UNITS)
    nearest = loaded.model.nearest(vector, TOP_SIMILAR * 2)
    names = await repository.unit_names(session, [u for u, _ in units])
    rows = {r.id: r for r in await repository.similar_rows(session, [i for i, _ in nearest])}
    unit_names_similar = await repository.unit_names(
        session, sorted({r.unit_code for r in rows.values() if r.unit_code})
    )
    similar = []
    for ticket_id, score in nearest:
        row = rows.get(ticket_id)
        if row is None:
            continue  # reopened or gone since the model was trained
        similar.append(_similar(row, score, loaded.names, unit_names_similar))
        if len(similar) == TOP_SIMILAR:
            break
    found = urgency.suggest(content)
    return {
        "categories": [
            {"code": c, "name": loaded.names[c], "score": round(p, 4)}
            for c, p in ranked[:TOP_CATEGORIES]
        ],
        "units": [
            {"code": u, "name": names.get(u, u), "score": round(p, 4)}
            for u, p in units
            if u in names
        ],
        "urgency": {"level": found.level, "words": found.words} if found else None,
        "similar": similar,
        "model": {
            "version": loaded.version,
            "kind": loaded.kind,
            "trained_at": loaded.trained_at,
            "ticket_count": loaded.ticket_count,
        },
    }


def _similar(row: Any, score: float, categories: dict[str, str], units: dict[str, str]) -> Any:
    reply = (row.reply or {}).get("text") or ""
    people = [row.caller_name, row.caller_phone]
    for extra in row.extra_callers or ():
        people += [extra.get("name"), extra.get("phone")]
    excerpt = _HONORIFIC.sub(MASK, scrub(reply, people))
    if len(excerpt) > EXCERPT:
        excerpt = excerpt[: EXCERPT - 1] + "…"
    return {
        "number": row.number,
        "category": row.category_code,
        "category_name": categories.get(row.category_code, row.category_code),
        "unit_code": row.unit_code,
        "unit_name": units.get(row.unit_code) if row.unit_code else None,
        "close_reason": row.close_reason,
        "reply_excerpt": excerpt,
        "score": round(score, 4),
    }


async def record(
    session: AsyncSession, ticket_id: int, suggested: Suggested, now: datetime
) -> None:
    """Keep what intake suggested for a ticket, for the figures (metrics)."""
    await repository.record(
        session,
        TicketSuggestion(
            ticket_id=ticket_id,
            model_version=suggested.model_version,
            category_code=suggested.code,
            score=suggested.score,
            top3=[c["code"] for c in suggested.candidates],
            accepted=suggested.accepted,
            created_at=now,
        ),
    )


def clock() -> float:
    return time.monotonic()
