"""Idempotent actions, after the IETF ``Idempotency-Key`` draft, as intake has them:

- The same key from the same API key with the same request answers the first answer (its
  status and body) and does nothing again.
- The same key with another request (another body, action or ticket) is a 422.
- Two identical requests at once: the action's own lock (the ticket's row) makes the second
  wait; once it holds the lock it finds the first one's key and replays it. Keys racing on
  different rows meet at the unique (api_key_id, key): the loser is rolled back with a 409.
- Only answers that committed are kept: a refused action (409, 412, …) leaves no key, and its
  retry is judged afresh.

Keys are kept ``KEEP`` (48 h; the IETF draft asks for at least 24 h) and then purged by the
sweeper.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.errors import Conflict, Unprocessable
from hotline.idempotency import repository

KEEP = timedelta(hours=48)


@dataclass(frozen=True)
class Claim:
    """A key as one API key presented it for one request (``digest``: the request's hash)."""

    api_key_id: int
    key: str
    digest: str


@dataclass(frozen=True)
class Stored:
    """The first answer to a key."""

    status_code: int
    body: str


def claim(api_key_id: int, key: str | None, *request: Any) -> Claim | None:
    """The claim of ``key`` (None without one) for the request made of ``request``: the
    method and path, then anything JSON can state (a body, a file's hash)."""
    if key is None:
        return None
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, default=str)
    return Claim(api_key_id, key, hashlib.sha256(canonical.encode()).hexdigest())


async def replayed(session: AsyncSession, claim: Claim | None) -> Stored | None:
    """The first answer to this key, or None when it is new. 422 when the key answered
    another request. Call it holding the lock the action takes, so a twin waits for it."""
    if claim is None:
        return None
    row = await repository.find(session, claim.api_key_id, claim.key)
    if row is None:
        return None
    if row.request_hash != claim.digest:
        raise Unprocessable(
            "此 Idempotency-Key 已用于另一个请求",
            en="This Idempotency-Key was used with a different request",
            field="Idempotency-Key",
        )
    return Stored(row.status_code, row.body)


async def remember(
    session: AsyncSession, claim: Claim | None, status_code: int, body: str, *, now: datetime
) -> None:
    """Keep the answer with the action, in its transaction. 409 (and the action rolled back)
    when another request holding the same key got there first."""
    if claim is None:
        return
    written = await repository.insert(
        session,
        {
            "api_key_id": claim.api_key_id,
            "key": claim.key,
            "request_hash": claim.digest,
            "status_code": status_code,
            "body": body,
            "created_at": now,
        },
    )
    if not written:
        raise Conflict(
            "使用此 Idempotency-Key 的另一个请求已先完成，请重试",
            en="Another request with this Idempotency-Key finished first; retry",
        )


async def purge(session: AsyncSession, now: datetime) -> int:
    """Forget the keys older than ``KEEP``; how many were."""
    return await repository.purge(session, now - KEEP)
