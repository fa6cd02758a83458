"""Training a model on the county's closed tickets and choosing the one every process serves
(``hotline suggest train`` / ``use``, and the sweeper's retraining)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.db.session import unit_of_work
from hotline.errors import NotFound
from hotline.org import repository as org_repository
from hotline.suggestion import model as ml
from hotline.suggestion import repository
from hotline.suggestion.models import SuggestionModel

# Below this many closed tickets a held-out fifth says nothing: the figures are left empty.
MIN_EVALUATED = 20


@dataclass(frozen=True)
class Trained:
    version: int
    kind: str
    ticket_count: int
    figures: dict[str, Any]


def _examples(rows: Sequence[Any]) -> list[ml.Example]:
    return [
        ml.Example(r.id, r.content, r.category_code, r.unit_code)
        for r in rows
        if r.content and r.content.strip()
    ]


def fit(
    examples: Sequence[ml.Example],
    seed: Sequence[ml.Example],
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[ml.Model, dict[str, Any]]:
    """Hold out a stratified 20%, measure top-1/top-3 on it, then fit on everything (pure,
    CPU only). With fewer than MIN_EVALUATED examples nothing is held out."""
    figures: dict[str, Any] = {}
    if len(examples) >= MIN_EVALUATED:
        train_part, held = ml.stratified_split(examples)
        progress("held-out model")
        scored = ml.train(train_part, seed)
        progress("evaluating")
        figures = ml.evaluate(scored, held).as_json()
    progress("final model")
    return ml.train(examples, seed, similar=examples, progress=progress), figures


def fit_and_dump(
    examples: Sequence[ml.Example], seed: Sequence[ml.Example]
) -> tuple[bytes, dict[str, Any]]:
    """``fit``, the model serialised: what a child process sends back (the server's retrain)."""
    built, figures = fit(examples, seed)
    return ml.dumps(built), figures


# Runs ``fit_and_dump`` somewhere other than the event loop: a thread by default, the serving
# process's child when the sweeper retrains (jobs.serve), so a long fit holds neither the loop
# nor the GIL the requests need.
Fitter = Callable[
    [Sequence[ml.Example], Sequence[ml.Example]], Awaitable[tuple[bytes, dict[str, Any]]]
]


async def train(
    maker: async_sessionmaker[AsyncSession],
    *,
    since: datetime | None,
    now: datetime,
    progress: Callable[[str], None] = lambda _: None,
    activate: bool = True,
    limit: int | None = None,
    fitter: Fitter | None = None,
) -> Trained:
    """Train on the tickets closed since ``since`` (all when None) and the catalogue's seed
    texts, store the model as a new version and (``activate``) make it the served one. With no
    closed ticket the stored model is the catalogue's seed. ``limit``: the newest that many
    closed tickets only. Fitting runs off the event loop (``fitter``: elsewhere), outside any
    transaction."""
    progress("reading")
    async with unit_of_work(maker, read_only=True) as session:
        rows = await repository.training(session, since, limit)
        categories = await org_repository.all_categories(session)
    seed = ml.seed_examples(
        (c.code, c.name, c.description, c.keywords) for c in categories if c.active
    )
    active = {c.code for c in categories if c.active}
    examples = [e for e in _examples(rows) if e.category in active]
    if fitter is None:
        built, figures = await asyncio.to_thread(fit, examples, seed, progress)
        blob = ml.dumps(built)
    else:
        progress("fitting")
        blob, figures = await fitter(examples, seed)
    progress("storing")
    kind = "trained" if examples else "seed"
    async with unit_of_work(maker) as session:
        row = await repository.add(
            session,
            SuggestionModel(
                kind=kind,
                trained_at=now,
                ticket_count=len(examples),
                figures=figures,
                blob=blob,
                active=False,
            ),
        )
        if activate:
            await repository.activate(session, row.version, now)
        version = row.version
    return Trained(version, kind, len(examples), figures)


async def use(session: AsyncSession, version: int, now: datetime) -> None:
    """Serve ``version`` from now on, in every process (within a few seconds). NotFound when
    no such model is stored."""
    if await repository.model(session, version) is None:
        raise NotFound(f"没有版本为 {version} 的分类建议模型", en=f"No suggestion model {version}")
    await repository.activate(session, version, now)


async def due(session: AsyncSession, minimum: int) -> bool:
    """Whether at least ``minimum`` tickets closed since the active model was trained (or any
    at all when none is stored): the sweeper's reason to retrain."""
    version = await repository.active_version(session)
    row = await repository.model(session, version) if version else None
    return await repository.closed_after(session, row.trained_at if row else None) >= minimum


async def retrain_due(
    maker: async_sessionmaker[AsyncSession], now: datetime, every: float, minimum: int
) -> bool:
    """The sweeper's question: ``every`` seconds since any process last stored a model, and at
    least ``minimum`` tickets closed since the served one was trained."""
    async with unit_of_work(maker, read_only=True) as session:
        last = await repository.last_trained_at(session)
        if last is not None and (now - last).total_seconds() < every:
            return False
        return await due(session, minimum)
