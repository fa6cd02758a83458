"""Detecting hot spots in the database and handling them as a class (由解决一件事向解决一类事).

A detection looks at the tickets created in the rule's window (place: the ticket's village,
else its grid), leaves out tickets already in a closed cluster, runs ``cluster.find`` off the
event loop, and merges what it finds into the open clusters of the same category and place
that share a ticket; anything new is a new cluster (and a ``cluster.found`` webhook).

No cluster text names a caller (DESIGN.md §8): keywords are made without the members' callers'
names, phone or ID-card numbers, or other people's names (hotspot.cluster), and what a reader
is shown is checked again against the members' callers (``shown``: clusters found before
keywords were scrubbed may still hold one); the handling standard a dispatcher wrote is
scrubbed for readers outside the centre (the viewer's dashboard).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.db.session import unit_of_work
from hotline.errors import Conflict, Unprocessable, found
from hotline.hotspot import cluster, repository, runner
from hotline.hotspot.models import Cluster, ClusterMember, HotspotRule
from hotline.kit.clock import local_iso
from hotline.kit.scrub import scrub
from hotline.org import catalogue
from hotline.org import repository as org_repository
from hotline.org.schemas import RuleCreate
from hotline.webhook import outbox
from hotline.webhook import repository as webhook_repository


@dataclass(frozen=True)
class Detection:
    found: int
    created: int
    updated: int


@dataclass(frozen=True)
class Members:
    """A cluster's members as readers see them (ids, numbers, states, times), and their
    callers' names, which no text of the cluster may show."""

    listed: list[dict[str, object]]
    names: tuple[str, ...]


def callers(name: str | None, extra: Iterable[dict[str, Any]] | None) -> tuple[str, ...]:
    """The names of a ticket's caller and of the callers merged into it (并单)."""
    found = [name, *(c.get("name") for c in extra or [])]
    return tuple(sorted({n for n in found if n}))


async def rule(session: AsyncSession) -> HotspotRule:
    return await repository.rule(session)


async def due(maker: async_sessionmaker[AsyncSession], now: datetime, every: float) -> bool:
    """Whether ``every`` seconds have passed since the last detection by any process."""
    async with unit_of_work(maker, read_only=True) as session:
        last = (await rule(session)).detected_at
    return last is None or (now - last).total_seconds() >= every


async def set_rule(
    session: AsyncSession, *, min_size: int, window_days: int, threshold: float, now: datetime
) -> HotspotRule:
    found = await rule(session)
    found.min_size, found.window_days, found.threshold = min_size, window_days, threshold
    found.updated_at = now
    return found


async def detect(
    maker: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    finder: runner.Finder = runner.in_thread,
) -> Detection:
    """One detection pass: the appeals read in one transaction, clustered outside any (by
    ``finder``, hotspot.runner: a serving process passes its child process's), the clusters
    written in another. Clustering a month of appeals takes seconds; on SQLite a transaction
    that writes holds the database's one write lock throughout, and no appeal could be taken
    meanwhile."""
    async with unit_of_work(maker, read_only=True) as session:
        settings = await rule(session)
        window_days, min_size, threshold = (
            settings.window_days,
            settings.min_size,
            settings.threshold,
        )
        rows = await repository.appeals(session, now - timedelta(days=window_days), now)
    appeals = [
        cluster.Appeal(i, c, p, at, text, callers(name, extra))
        for i, c, p, at, text, name, extra in rows
    ]
    found = await finder(
        appeals, now=now, window_days=window_days, min_size=min_size, threshold=threshold
    )
    created = updated = 0
    async with unit_of_work(maker) as session:
        (await rule(session)).detected_at = now
        for hot in found:
            if await _merge(session, hot, now):
                updated += 1
            else:
                await _create(session, hot, now)
                created += 1
    return Detection(len(found), created, updated)


async def _merge(session: AsyncSession, hot: cluster.Found, now: datetime) -> bool:
    existing = await repository.open_sharing(session, hot.category, hot.place, hot.ids)
    if existing is None:
        return False
    members = await repository.member_ids(session, existing.id)
    for ticket_id in set(hot.ids) - members:
        session.add(ClusterMember(cluster_id=existing.id, ticket_id=ticket_id))
    existing.size = len(members | set(hot.ids))
    existing.first_seen = min(existing.first_seen, hot.first_seen)
    existing.last_seen = max(existing.last_seen, hot.last_seen)
    existing.keywords = list(hot.keywords)
    existing.trend = list(hot.trend)
    existing.updated_at = now
    return True


async def _create(session: AsyncSession, hot: cluster.Found, now: datetime) -> Cluster:
    made = Cluster(
        category_code=hot.category,
        place_code=hot.place,
        status="open",
        size=len(hot.ids),
        first_seen=hot.first_seen,
        last_seen=hot.last_seen,
        keywords=list(hot.keywords),
        trend=list(hot.trend),
        standard="",
        created_at=now,
        updated_at=now,
    )
    session.add(made)
    await session.flush()
    session.add_all(ClusterMember(cluster_id=made.id, ticket_id=i) for i in hot.ids)
    for webhook_id, types in await webhook_repository.subscribers(session):
        if "cluster.found" in types:
            data = {
                "cluster": {
                    "id": made.id,
                    "category": made.category_code,
                    "place": made.place_code,
                    "size": made.size,
                    "keywords": made.keywords,
                }
            }
            outbox.add(
                session,
                webhook_id,
                "cluster.found",
                outbox.message("cluster.found", data, now),
                now,
            )
    return made


async def get(session: AsyncSession, cluster_id: int) -> Cluster:
    return found(
        await repository.locked(session, cluster_id),
        f"没有编号为 {cluster_id} 的类案",
        en=f"No cluster {cluster_id}",
    )


async def assign(
    session: AsyncSession,
    found: Cluster,
    *,
    lead_unit: str,
    standard: str,
    add_rule: bool,
    now: datetime,
) -> Cluster:
    """Give the class of case a lead unit and a handling standard (处置规范); with
    ``add_rule`` the standard becomes a catalogue rule (category, place → lead unit)."""
    if found.status == "closed":
        raise Conflict(f"类案 {found.id} 已关闭", en=f"Cluster {found.id} is closed")
    if add_rule:
        made = await catalogue.create_rule(
            session,
            RuleCreate(
                category=found.category_code,
                area_code=found.place_code,
                unit_code=lead_unit,
                priority=40,
                note=f"类案 {found.id} 处置规范：{standard}"[:500],
            ),
            now=now,
            source="cluster",
        )
        found.rule_id = made.id
    elif await org_repository.unit(session, lead_unit) is None:
        raise Unprocessable(
            f"没有编码为 {lead_unit} 的单位", en=f"Unknown unit {lead_unit}", field="lead_unit"
        )
    found.lead_unit_code = lead_unit
    found.standard = standard
    found.status = "assigned"
    found.updated_at = now
    return found


async def clusters(
    session: AsyncSession, *, limit: int, **filters: str | None
) -> list[tuple[Cluster, Members]]:
    """Clusters matching the filters given (repository.clusters), most recently seen first,
    each with its members."""
    rows = await repository.clusters(session, limit=limit, **filters)
    of = await members(session, [c.id for c in rows])
    return [(c, of.get(c.id, Members([], ()))) for c in rows]


async def during(
    session: AsyncSession, start: datetime, end: datetime, *, limit: int
) -> list[tuple[Cluster, Members]]:
    """The clusters seen during [start, end) (a report's hot spots), the largest first, each
    with its members."""
    rows = await repository.overlapping(session, start, end, limit)
    of = await members(session, [c.id for c in rows])
    return [(c, of.get(c.id, Members([], ()))) for c in rows]


async def close(session: AsyncSession, found: Cluster, *, now: datetime) -> Cluster:
    found.status = "closed"
    found.updated_at = now
    return found


async def members(session: AsyncSession, ids: list[int]) -> dict[int, Members]:
    """The members of these clusters, by cluster id."""
    listed: dict[int, list[dict[str, object]]] = {}
    names: dict[int, set[str]] = {}
    for cluster_id, tid, number, status, created, name, extra in await repository.members(
        session, ids
    ):
        listed.setdefault(cluster_id, []).append(
            {"id": tid, "number": number, "status": status, "created_at": local_iso(created)}
        )
        names.setdefault(cluster_id, set()).update(callers(name, extra))
    return {i: Members(listed[i], tuple(sorted(names[i]))) for i in listed}


def shown(found: Cluster, members: Members, *, outside: bool) -> tuple[list[str], str]:
    """The keywords and the handling standard as a reader sees them: no keyword that names a
    member's caller or holds a phone or ID-card number, and for a reader ``outside`` the centre
    the standard scrubbed of them too."""
    keywords = [k for k in found.keywords if scrub(k, members.names) == k]
    standard = scrub(found.standard, members.names) if outside else found.standard
    return keywords, standard
