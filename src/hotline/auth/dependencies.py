"""``Authorization: Bearer <key>`` → a Principal, and role requirements readable in signatures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hotline.auth.roles import CENTRE, FIELD, ROLE_NAMES, Role
from hotline.auth.service import Principal
from hotline.db.session import unit_of_work
from hotline.errors import Forbidden, HotlineError, TooManyRequests, Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer hl_…`")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def presented_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The bearer key as sent."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated(
            "请以 `Authorization: Bearer <密钥>` 发送 API 密钥",
            en="Send an API key as `Authorization: Bearer <key>`",
        )
    return credentials.credentials


PresentedKey = Annotated[str, Depends(presented_key)]


def bad_key(request: Request, refused: Unauthenticated) -> HotlineError:
    """The answer to a bad key: ``refused`` (401), or 429 once its client address keeps
    presenting bad keys (auth.throttle). Behind a proxy the address is the one the proxy
    forwards, when the proxy is trusted (HOTLINE_SERVER__TRUSTED_PROXIES)."""
    address = client_address(request)
    wait = request.app.state.throttle.failed(address)
    if wait is None:
        return refused
    return TooManyRequests(
        f"来自 {address} 的无效密钥过多，请 {wait:.0f} 秒后重试",
        en=f"Too many bad keys from {address}; retry in {wait:.0f} s",
        retry_after=round(wait) + 1,
    )


async def current_principal(request: Request, presented: PresentedKey) -> Principal:
    """The principal of the key, from this process's key cache checked against the ``keys``
    generation (db.config_state) in one short read of its own: a request that waits (long
    polling) must not hold a transaction, and a key revoked through any process is refused."""
    state = request.app.state
    try:
        async with unit_of_work(state.sessionmaker, read_only=True) as session:
            seen = await state.config.read(session)
            return await state.keys.principal(session, presented, seen.keys)
    except Unauthenticated as refused:
        raise bad_key(request, refused) from None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting these roles (403 for the others). The roles stay on it, as
    ``roles``, for the schema (app._openapi)."""
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            names_zh = "、".join(ROLE_NAMES[r] for r in sorted(allowed))
            raise Forbidden(
                f"{ROLE_NAMES[principal.role]}无权进行此操作，需要：{names_zh}",
                en=f"Role {principal.role.value} may not do this; needs one of: {names}",
            )
        return principal

    dependency.roles = allowed  # type: ignore[attr-defined]
    return dependency


# The roles an endpoint admits, named in its signature (and listed in openapi.yaml, x-roles).
Agent = Annotated[Principal, Depends(require(Role.agent))]
Dispatcher = Annotated[Principal, Depends(require(Role.dispatcher))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
CentreReader = Annotated[Principal, Depends(require(*CENTRE))]
TicketReader = Annotated[Principal, Depends(require(*CENTRE, *FIELD))]
FieldActor = Annotated[Principal, Depends(require(*FIELD))]
AnyRole = Annotated[Principal, Depends(require(*Role))]
