"""API keys: minting (the secret is shown once) and authenticating a presented key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import ApiKey
from hotline.auth.roles import Role
from hotline.errors import Unauthenticated
from hotline.kit.clock import utcnow
from hotline.org.models import Unit

KEY_PREFIX = "hl"


@dataclass(frozen=True)
class Principal:
    key_id: int
    name: str
    role: Role
    unit_code: str | None
    staff_id: int | None
    # The kind of the key's unit (grid, village, township, county, department …): what an
    # officer reads below their unit depends on it.
    unit_kind: str | None = None


@dataclass(frozen=True)
class MintedKey:
    key: str
    row: ApiKey


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    unit_code: str | None = None,
    staff_id: int | None = None,
) -> MintedKey:
    """Store a new key's hash and return the key itself, which is never stored or shown again."""
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        name=name,
        role=role.value,
        unit_code=unit_code,
        staff_id=staff_id,
        prefix=prefix,
        secret_hash=_digest(key),
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return MintedKey(key=key, row=row)


async def authenticate(session: AsyncSession, presented: str) -> Principal:
    """The principal for a presented key; ``Unauthenticated`` for anything else.

    The row is found by its public prefix and the hashes compared in constant time, so response
    times do not tell how much of a guessed key was right.
    """
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(presented) > 200:
        raise Unauthenticated("Unknown API key")
    found = (
        await session.execute(
            select(ApiKey, Unit.kind)
            .outerjoin(Unit, Unit.code == ApiKey.unit_code)
            .where(ApiKey.prefix == parts[1])
        )
    ).first()
    row, kind = (found[0], found[1]) if found is not None else (None, None)
    expected = row.secret_hash if row is not None else "0" * 64
    matches = hmac.compare_digest(_digest(presented), expected)
    if row is None or not matches or row.revoked_at is not None:
        raise Unauthenticated("Unknown or revoked API key")
    return Principal(
        key_id=row.id,
        name=row.name,
        role=Role(row.role),
        unit_code=row.unit_code,
        staff_id=row.staff_id,
        unit_kind=kind,
    )
