"""HTTP for photos: upload to a ticket (multipart), list a ticket's photos, fetch one."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status

from hotline.attachment import image, service, storage
from hotline.attachment import repository as attachment_repository
from hotline.attachment.schemas import AttachmentRead, Size, Stage
from hotline.auth.dependencies import TicketReader
from hotline.auth.service import Principal
from hotline.config import AttachmentSettings
from hotline.db.session import ReadSession, unit_of_work
from hotline.errors import (
    AttachmentLimit,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    Unprocessable,
    UnsupportedMediaType,
    responses,
)
from hotline.idempotency import service as keys
from hotline.idempotency.headers import IdempotencyKey, answer
from hotline.kit.clock import Now, county_zone
from hotline.kit.types import Id
from hotline.ticket import repository as ticket_repository
from hotline.ticket import service as ticket_service
from hotline.ticket.dependencies import ReadableTicket

router = APIRouter(prefix="/v1", tags=["attachments"])
CHUNK = 1024 * 1024
# A photo's path, for the body limit (app.py): the photo's own limit and the form around it.
UPLOAD_PATH = r"/v1/tickets/[0-9]+/attachments"
FORM_OVERHEAD = 64 * 1024


def _store(request: Request) -> storage.DirectoryStore:
    return storage.DirectoryStore(request.app.state.settings.attachment_dir)


async def _read(file: UploadFile, limit: int) -> bytes:
    """The file's bytes; 413 past ``limit`` (the body limit already stopped anything much
    larger before it was read)."""
    parts, seen = [], 0
    while chunk := await file.read(CHUNK):
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(
                f"照片不能超过 {limit // (1024 * 1024)} MiB",
                en=f"A photo may be at most {limit // (1024 * 1024)} MiB ({limit} bytes)",
            )
        parts.append(chunk)
    if not seen:
        raise Unprocessable("照片文件为空", en="The photo is empty", field="file")
    return b"".join(parts)


@router.post(
    "/tickets/{ticket_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    response_model=AttachmentRead,
    summary="Add a photo to a ticket (before, during or after the work)",
    responses=responses(
        Unauthenticated,
        Forbidden,
        NotFound,
        Conflict,
        AttachmentLimit,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unprocessable,
    ),
)
async def upload(
    ticket_id: Id,
    principal: TicketReader,
    request: Request,
    now: Now,
    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP photo, at most 10 MiB")],
    stage: Annotated[Stage, Form(description="before, during or after the work")],
    note: Annotated[str, Form(max_length=500)] = "",
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The type is judged by the bytes, not the file's name (another is 415); a photo over
    the limit is 413. The original is kept privately; what is served is a re-encoded JPEG with
    no metadata, and a thumbnail. The capture time and GPS position of the original's EXIF are
    shown to the centre and officers, with the distance from the ticket's place, the minutes
    since dispatch and the flags `far_from_place`, `before_dispatch`. The photo's event
    (`attachment_added`) joins the timeline and the ticket's version moves. A ticket holds at
    most 30 photos (409 `attachment_limit`)."""
    limits: AttachmentSettings = request.app.state.settings.attachments
    data = await _read(file, limits.max_bytes)
    claim = keys.claim(
        principal.key_id,
        idempotency_key,
        "POST /v1/tickets/{id}/attachments",
        ticket_id,
        stage.value,
        note,
        service.digest(data),
    )
    maker = request.app.state.sessionmaker
    # A replay, someone else's ticket, a full ticket: known before any Pillow work.
    async with unit_of_work(maker, read_only=True) as session:
        stored = await keys.replayed(session, claim)
        if stored is not None:
            return answer(stored, replayed=True)
        ticket = await ticket_service.readable_ticket(session, ticket_id, principal)
        await service.admit(session, principal, ticket, per_ticket=limits.per_ticket)
    processed = await asyncio.to_thread(
        image.process,
        data,
        image.Limits(limits.max_pixels, limits.served_px, limits.thumb_px),
        county_zone(),
    )
    store = _store(request)
    key = storage.new_key()
    files = {"original": data, "jpg": processed.served, "thumb.jpg": processed.thumb}
    await asyncio.to_thread(store.put, key, files)
    try:
        result = await _write(
            maker,
            principal,
            ticket_id,
            claim,
            service.Upload(key, stage, note, data, processed),
            limits=limits,
            now=now,
        )
    except BaseException:
        await asyncio.to_thread(store.delete, key)
        raise
    if result[1]:
        await asyncio.to_thread(store.delete, key)
    stored, replayed = result
    location = {} if replayed else {"Location": _location(stored)}
    return answer(stored, replayed=replayed, headers=location)


def _location(stored: keys.Stored) -> str:
    return f"/v1/attachments/{json.loads(stored.body)['id']}"


async def _write(
    maker: Any,
    principal: Principal,
    ticket_id: int,
    claim: keys.Claim | None,
    upload: service.Upload,
    *,
    limits: AttachmentSettings,
    now: Any,
) -> tuple[keys.Stored, bool]:
    """The row, its event and its key in one transaction on the locked ticket; (the answer,
    whether it is a replay of a twin that got the lock first)."""
    async with unit_of_work(maker) as session:
        ticket = await ticket_repository.locked(session, ticket_id)
        if ticket is None:
            raise NotFound(f"没有编号为 {ticket_id} 的工单", en=f"No ticket {ticket_id}")
        stored = await keys.replayed(session, claim)
        if stored is not None:
            return stored, True
        if not await ticket_service.readable(session, principal, ticket):
            raise NotFound(f"没有编号为 {ticket_id} 的工单", en=f"No ticket {ticket_id}")
        await service.admit(session, principal, ticket, per_ticket=limits.per_ticket)
        row = await service.add(
            session, principal, ticket, upload, far_metres=limits.far_metres, now=now
        )
        read = service.present(principal, row, ticket_version=ticket.version)
        stored = keys.Stored(status.HTTP_201_CREATED, read.model_dump_json())
        await keys.remember(session, claim, stored.status_code, stored.body, now=now)
        return stored, False


@router.get(
    "/tickets/{ticket_id}/attachments",
    response_model=list[AttachmentRead],
    summary="A ticket's photos, oldest first",
    responses=responses(Unauthenticated, Forbidden, NotFound),
)
async def list_attachments(
    session: ReadSession, principal: TicketReader, ticket: ReadableTicket
) -> list[AttachmentRead]:
    """Whoever reads the ticket; the EXIF fields and the check only for the centre and
    officers. The dashboard's viewer gets none (403)."""
    rows = await attachment_repository.of_ticket(session, ticket.id)
    return [service.present(principal, row) for row in rows]


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    summary="A photo (the served copy, or its thumbnail with `size=thumb`)",
    responses={
        200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
        **responses(Unauthenticated, Forbidden, NotFound),
    },
)
async def read_attachment(
    attachment_id: Id,
    request: Request,
    session: ReadSession,
    principal: TicketReader,
    size: Annotated[Size, Query(description="`thumb`: about 320 px")] = Size.full,
) -> Response:
    """Always a JPEG with no metadata; the original as uploaded is never served. A photo of a
    ticket the reader may not read is a 404."""
    row = await attachment_repository.get(session, attachment_id)
    if row is None:
        raise NotFound(f"没有编号为 {attachment_id} 的照片", en=f"No attachment {attachment_id}")
    try:
        await ticket_service.readable_ticket(session, row.ticket_id, principal)
    except NotFound:
        raise NotFound(
            f"没有编号为 {attachment_id} 的照片", en=f"No attachment {attachment_id}"
        ) from None
    variant = "thumb.jpg" if size is Size.thumb else "jpg"
    data = await asyncio.to_thread(_store(request).get, row.storage_key, variant)
    return Response(
        data,
        media_type="image/jpeg",
        headers={
            # A stored photo never changes; it is personal to the reader's key.
            "Cache-Control": "private, max-age=86400, immutable",
            "ETag": f'"{row.storage_key}-{size.value}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
