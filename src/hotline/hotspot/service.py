"""Detecting hot spots in the database and handling them as a class (由解决一件事向解决一类事).

A detection looks at the tickets created in the rule's window (place: the ticket's village,
else its grid), leaves out tickets already in a closed cluster, runs ``cluster.find`` off the
event loop, and merges what it finds into the open clusters of the same category and place
that share a ticket; anything new is a new cluster (and a ``cluster.found`` webhook).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.errors import Conflict, NotFound, Unprocessable
from hotline.hotspot import cluster
from hotline.hotspot.models import Cluster, ClusterMember, HotspotRule
from hotline.kit.clock import local_iso
from hotline.org import catalogue
from hotline.org import repository as org_repository
from hotline.org.schemas import RuleCreate
from hotline.ticket.models import Ticket
from hotline.webhook import outbox
from hotline.webhook.models import Webhook


@dataclass(frozen=True)
class Detection:
    found: int
    created: int
    updated: int


async def rule(session: AsyncSession) -> HotspotRule:
    return await session.get_one(HotspotRule, 1)


async def detect(session: AsyncSession, *, now: datetime) -> Detection:
    """One detection pass in the caller's transaction."""
    settings = await rule(session)
    since = now - timedelta(days=settings.window_days)
    closed = (
        select(ClusterMember.ticket_id)
        .join(Cluster, Cluster.id == ClusterMember.cluster_id)
        .where(Cluster.status == "closed")
    )
    place = func.coalesce(Ticket.village_code, Ticket.area_code)
    rows = await session.execute(
        select(Ticket.id, Ticket.category_code, place, Ticket.created_at, Ticket.content).where(
            Ticket.created_at > since,
            Ticket.created_at <= now,
            place.is_not(None),
            Ticket.id.not_in(closed),
        )
    )
    appeals = [cluster.Appeal(i, c, p, at, text) for i, c, p, at, text in rows]
    found = await asyncio.to_thread(
        cluster.find,
        appeals,
        now=now,
        window_days=settings.window_days,
        min_size=settings.min_size,
        threshold=settings.threshold,
    )
    created = updated = 0
    for hot in found:
        if await _merge(session, hot, now):
            updated += 1
        else:
            await _create(session, hot, now)
            created += 1
    await session.flush()
    return Detection(len(found), created, updated)


async def _merge(session: AsyncSession, hot: cluster.Found, now: datetime) -> bool:
    existing = await session.scalar(
        select(Cluster)
        .join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
        .where(
            Cluster.status != "closed",
            Cluster.category_code == hot.category,
            Cluster.place_code == hot.place,
            ClusterMember.ticket_id.in_(hot.ids),
        )
        .limit(1)
    )
    if existing is None:
        return False
    members = set(
        (
            await session.scalars(
                select(ClusterMember.ticket_id).where(ClusterMember.cluster_id == existing.id)
            )
        ).all()
    )
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
    hooks = await session.execute(select(Webhook.id, Webhook.event_types).where(Webhook.active))
    for webhook_id, types in hooks:
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
    found = await session.get(Cluster, cluster_id, with_for_update=True)
    if found is None:
        raise NotFound(f"No cluster {cluster_id}")
    return found


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
        raise Conflict(f"Cluster {found.id} is closed")
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
        raise Unprocessable(f"Unknown unit {lead_unit}", field="lead_unit")
    found.lead_unit_code = lead_unit
    found.standard = standard
    found.status = "assigned"
    found.updated_at = now
    return found


async def close(session: AsyncSession, found: Cluster, *, now: datetime) -> Cluster:
    found.status = "closed"
    found.updated_at = now
    return found


async def members(session: AsyncSession, ids: list[int]) -> dict[int, list[dict[str, object]]]:
    rows = await session.execute(
        select(ClusterMember.cluster_id, Ticket.id, Ticket.number, Ticket.status, Ticket.created_at)
        .join(Ticket, Ticket.id == ClusterMember.ticket_id)
        .where(ClusterMember.cluster_id.in_(ids))
        .order_by(Ticket.id)
    )
    out: dict[int, list[dict[str, object]]] = {}
    for cluster_id, tid, number, status, created in rows:
        out.setdefault(cluster_id, []).append(
            {"id": tid, "number": number, "status": status, "created_at": local_iso(created)}
        )
    return out
