"""The rules of attachments: who may add and read a ticket's photos, the per-ticket limit,
what each reader is shown, the ``after`` photo a category's reply needs. Never commits.

- Upload: the hotline centre; the ticket's owner or, while nobody owns it, those of the grid,
  department or unit it waits in; the units a ruling named co-handler; a summoned member or
  officer; an officer of the owning unit, of the rung it climbed to or of a unit above.
- Read: whoever reads the ticket (ticket.visibility), never the dashboard's viewer.
- The EXIF fields (capture time, position) and the check against the ticket (distance,
  minutes since dispatch, flags) only for the centre and officers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.attachment import checks, repository
from hotline.attachment.image import Processed
from hotline.attachment.models import Attachment
from hotline.attachment.schemas import AttachmentRead, Exif, PlaceCheck, Stage, Uploader
from hotline.auth.roles import CENTRE, FIELD, Role
from hotline.auth.service import Principal
from hotline.change import pipeline
from hotline.errors import AttachmentLimit, Forbidden, PhotoRequired
from hotline.org import repository as org_repository
from hotline.ticket import events, visibility
from hotline.ticket import repository as ticket_repository
from hotline.ticket.models import Ticket

# Who sees what the original's EXIF said, and the check against the ticket.
STAFF_VIEW = CENTRE | {Role.officer}
ADDED = "attachment_added"


@dataclass(frozen=True)
class Upload:
    """A photo processed and stored under ``key``, on its way to becoming a row."""

    key: str
    stage: Stage
    note: str
    original: bytes
    processed: Processed


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def may_upload(session: AsyncSession, principal: Principal, ticket: Ticket) -> bool:
    p, unit = principal, principal.unit_code
    if p.role in CENTRE:
        return True
    if p.role not in FIELD or unit is None:
        return False
    if visibility.owns(p, ticket) or unit in (ticket.co_handlers or []):
        return True
    if p.role is Role.officer and visibility.concerns(p, ticket):
        return True
    if ticket.assignee_id is None:
        waiting_in = ticket.grid_code if p.role is Role.worker else ticket.unit_code
        if unit == waiting_in and (p.role is Role.worker or ticket.grid_code is None):
            return True
    return p.role in (Role.member, Role.officer) and await ticket_repository.summoned(
        session, ticket.id, p.staff_id, unit
    )


async def admit(
    session: AsyncSession, principal: Principal, ticket: Ticket, *, per_ticket: int
) -> None:
    """403 unless ``principal`` may add a photo to ``ticket``; 409 attachment_limit when the
    ticket already holds ``per_ticket``. Holding the ticket's lock, the count is exact."""
    if not await may_upload(session, principal, ticket):
        raise Forbidden(
            "只有工单的承办人、协办单位、被吹哨人、上级单位负责人和热线中心可以上传照片",
            en="Only the ticket's owner, co-handlers, summoned members, officers above and "
            "the hotline centre add photos",
        )
    held = await repository.count(session, ticket.id)
    if held >= per_ticket:
        raise AttachmentLimit(
            f"每张工单最多 {per_ticket} 张照片",
            en=f"A ticket holds at most {per_ticket} photos",
            limit=per_ticket,
        )


async def add(
    session: AsyncSession,
    principal: Principal,
    ticket: Ticket,
    upload: Upload,
    *,
    far_metres: float,
    now: datetime,
) -> Attachment:
    """The row of a stored photo, judged against the ticket, and its event
    (``attachment_added``, naming only its id and stage) in the ticket's timeline: the ticket's
    version moves and whoever it concerns hears of it. Call on the locked, admitted ticket."""
    shot = upload.processed
    position = (shot.lat, shot.lon) if shot.lat is not None and shot.lon is not None else None
    place = (ticket.lat, ticket.lon) if ticket.lat is not None and ticket.lon is not None else None
    check = checks.judge(
        place=place,
        dispatched_at=ticket.dispatched_at,
        taken_at=shot.taken_at,
        position=position,
        far_metres=far_metres,
    )
    row = Attachment(
        ticket_id=ticket.id,
        stage=upload.stage.value,
        note=upload.note,
        storage_key=upload.key,
        original_format=shot.format,
        original_bytes=len(upload.original),
        sha256=digest(upload.original),
        width=shot.width,
        height=shot.height,
        served_bytes=len(shot.served),
        thumb_bytes=len(shot.thumb),
        taken_at=shot.taken_at,
        lat=shot.lat,
        lon=shot.lon,
        distance_m=check.distance_m,
        minutes_since_dispatch=check.minutes_since_dispatch,
        flags=check.flags,
        uploaded_by_key_id=principal.key_id,
        uploaded_by_staff_id=principal.staff_id,
        uploaded_by_role=principal.role.value,
        uploaded_by_name=principal.name,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    pipeline.touch(session, ticket)
    events.record(
        session,
        ticket,
        ADDED,
        actor=principal,
        at=now,
        from_status=ticket.status,
        details={"attachment_id": row.id, "stage": row.stage},
    )
    ticket.version += 1
    ticket.updated_at = now
    return row


def present(
    principal: Principal, row: Attachment, *, ticket_version: int | None = None
) -> AttachmentRead:
    """The photo as this reader may see it: EXIF and the check only for the centre and
    officers."""
    staff = principal.role in STAFF_VIEW
    return AttachmentRead(
        id=row.id,
        ticket_id=row.ticket_id,
        stage=Stage(row.stage),
        note=row.note,
        width=row.width,
        height=row.height,
        bytes=row.served_bytes,
        url=f"/v1/attachments/{row.id}",
        thumb_url=f"/v1/attachments/{row.id}?size=thumb",
        uploaded_by=Uploader(role=row.uploaded_by_role, name=row.uploaded_by_name),
        created_at=row.created_at,
        ticket_version=ticket_version,
        exif=Exif(taken_at=row.taken_at, lat=row.lat, lon=row.lon) if staff else None,
        check=PlaceCheck(
            distance_m=row.distance_m,
            minutes_since_dispatch=row.minutes_since_dispatch,
            flags=list(row.flags or []),
        )
        if staff
        else None,
    )


async def require_after_photo(session: AsyncSession, ticket: Ticket) -> None:
    """409 photo_required, naming the ``after`` photo, when the ticket's category needs one
    before a reply and the current work round (since the ticket was last signed or sent back
    for rework) has none."""
    category = await org_repository.category(session, ticket.category_code)
    if category is None or not category.requires_after_photo:
        return
    if await repository.has_stage(session, ticket.id, Stage.after.value, ticket.reply_started_at):
        return
    raise PhotoRequired(
        f"「{category.name}」类工单答复前须上传一张处理后（after）照片",
        en=f"A reply to a {category.name_en} ticket needs an `after` photo of the work first",
        missing=Stage.after.value,
        category=category.code,
    )
