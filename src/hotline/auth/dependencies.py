"""``Authorization: Bearer <key>`` → a Principal, and role requirements readable in signatures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hotline.auth import throttle
from hotline.auth.roles import CENTRE, FIELD, Role
from hotline.auth.service import Principal, authenticate
from hotline.db.session import unit_of_work
from hotline.errors import Forbidden, TooManyRequests, Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer hl_…`")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("Send an API key as `Authorization: Bearer <key>`")
    address = request.client.host if request.client else "unknown"
    wait = throttle.blocked(address)
    if wait is not None:
        raise TooManyRequests(
            f"Too many bad keys from {address}; retry in {wait:.0f} s", retry_after=round(wait) + 1
        )
    try:
        # Its own short read: a request that waits (long polling) must not hold a transaction.
        async with unit_of_work(request.app.state.sessionmaker, read_only=True) as session:
            return await authenticate(session, credentials.credentials)
    except Unauthenticated:
        throttle.failed(address)
        raise


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"Role {principal.role.value} may not do this; needs one of: {names}")
        return principal

    return dependency


Agent = Annotated[Principal, Depends(require(Role.agent))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
CentreReader = Annotated[Principal, Depends(require(*CENTRE))]
TicketReader = Annotated[Principal, Depends(require(*CENTRE, *FIELD))]
AnyRole = Annotated[Principal, Depends(require(*Role))]
