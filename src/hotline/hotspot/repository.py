"""The queries of hot spots: the rule, the appeals a detection looks at, clusters and members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.hotspot.models import Cluster, ClusterMember, HotspotRule
from hotline.ticket.models import Ticket


async def rule(session: AsyncSession) -> HotspotRule:
    return await session.get_one(HotspotRule, 1)


async def appeals(session: AsyncSession, since: datetime, now: datetime) -> Sequence[Any]:
    """(id, category, place, created_at, content, caller name, extra callers) of the tickets
    created in (since, now] that have a place (village, else grid) and are in no closed
    cluster."""
    closed = (
        select(ClusterMember.ticket_id)
        .join(Cluster, Cluster.id == ClusterMember.cluster_id)
        .where(Cluster.status == "closed")
    )
    place = func.coalesce(Ticket.village_code, Ticket.area_code)
    rows = await session.execute(
        select(
            Ticket.id,
            Ticket.category_code,
            place,
            Ticket.created_at,
            Ticket.content,
            Ticket.caller_name,
            Ticket.extra_callers,
        ).where(
            Ticket.created_at > since,
            Ticket.created_at <= now,
            Ticket.imported.is_(False),  # history: what is happening now makes a hot spot
            place.is_not(None),
            Ticket.id.not_in(closed),
        )
    )
    return rows.all()


async def open_sharing(
    session: AsyncSession, category: str, place: str, ticket_ids: Sequence[int]
) -> Cluster | None:
    """An open (or assigned) cluster of this category and place with one of these tickets."""
    return await session.scalar(
        select(Cluster)
        .join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
        .where(
            Cluster.status != "closed",
            Cluster.category_code == category,
            Cluster.place_code == place,
            ClusterMember.ticket_id.in_(ticket_ids),
        )
        .limit(1)
    )


async def member_ids(session: AsyncSession, cluster_id: int) -> set[int]:
    return set(
        await session.scalars(
            select(ClusterMember.ticket_id).where(ClusterMember.cluster_id == cluster_id)
        )
    )


async def locked(session: AsyncSession, cluster_id: int) -> Cluster | None:
    return await session.get(Cluster, cluster_id, with_for_update=True)


async def clusters(
    session: AsyncSession,
    *,
    status: str | None,
    category: str | None,
    place: str | None,
    limit: int,
) -> list[Cluster]:
    """Clusters matching the filters given, the most recently seen first."""
    query = select(Cluster)
    for column, value in (
        (Cluster.status, status),
        (Cluster.category_code, category),
        (Cluster.place_code, place),
    ):
        if value is not None:
            query = query.where(column == value)
    return list(await session.scalars(query.order_by(Cluster.last_seen.desc()).limit(limit)))


async def members(session: AsyncSession, cluster_ids: Sequence[int]) -> Sequence[Any]:
    """(cluster id, ticket id, number, status, created_at, caller name, extra callers) of these
    clusters' members."""
    rows = await session.execute(
        select(
            ClusterMember.cluster_id,
            Ticket.id,
            Ticket.number,
            Ticket.status,
            Ticket.created_at,
            Ticket.caller_name,
            Ticket.extra_callers,
        )
        .join(Ticket, Ticket.id == ClusterMember.ticket_id)
        .where(ClusterMember.cluster_id.in_(cluster_ids))
        .order_by(Ticket.id)
    )
    return rows.all()


async def overlapping(
    session: AsyncSession, start: datetime, end: datetime, limit: int
) -> list[Cluster]:
    """Clusters seen during [start, end), whatever their state now, the largest first."""
    query = (
        select(Cluster)
        .where(Cluster.last_seen >= start, Cluster.first_seen < end)
        .order_by(Cluster.size.desc(), Cluster.id)
        .limit(limit)
    )
    return list(await session.scalars(query))
