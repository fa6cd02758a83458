"""API keys: minting (the secret is shown once) and authenticating a presented key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import repository
from hotline.auth.models import ApiKey
from hotline.auth.roles import Role
from hotline.db import config_state
from hotline.errors import Unauthenticated
from hotline.kit.clock import utcnow

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
    await config_state.bump(session, "keys")
    return MintedKey(key=key, row=row)


@dataclass(frozen=True)
class _Known:
    """A key as this process keeps it: the hash to compare and who it stands for."""

    secret_hash: str
    principal: Principal | None  # None: revoked


def _split(presented: str) -> str:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(presented) > 200:
        raise Unauthenticated("API 密钥无效", en="Unknown API key")
    return parts[1]


async def _load(session: AsyncSession, prefix: str) -> _Known | None:
    found = await repository.key_with_unit_kind(session, prefix)
    if found is None:
        return None
    row, kind = found
    principal = Principal(
        key_id=row.id,
        name=row.name,
        role=Role(row.role),
        unit_code=row.unit_code,
        staff_id=row.staff_id,
        unit_kind=kind,
    )
    return _Known(row.secret_hash, principal if row.revoked_at is None else None)


def _check(presented: str, known: _Known | None) -> Principal:
    """Constant-time comparison, so response times do not tell how much of a guess was right."""
    expected = known.secret_hash if known is not None else "0" * 64
    matches = hmac.compare_digest(_digest(presented), expected)
    if known is None or not matches or known.principal is None:
        raise Unauthenticated("API 密钥无效或已被吊销", en="Unknown or revoked API key")
    return known.principal


async def authenticate(session: AsyncSession, presented: str) -> Principal:
    """The principal for a presented key; ``Unauthenticated`` for anything else."""
    return _check(presented, await _load(session, _split(presented)))


class Keys:
    """The keys this process has seen, as of one ``keys`` generation (db.config_state): a key
    revoked through any process is refused here from the first request that reads the newer
    generation. Unknown prefixes are remembered too, up to a bound."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self._generation: int | None = None
        self._known: dict[str, _Known | None] = {}

    async def principal(self, session: AsyncSession, presented: str, generation: int) -> Principal:
        prefix = _split(presented)
        if generation != self._generation or len(self._known) > self.LIMIT:
            self._known.clear()
            self._generation = generation
        if prefix not in self._known:
            self._known[prefix] = await _load(session, prefix)
        return _check(presented, self._known[prefix])
