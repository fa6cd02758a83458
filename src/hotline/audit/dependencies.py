"""The audit trail as a request sees it: ``ReadLog`` records what the request handed out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from hotline.audit.service import Read, record_reads
from hotline.auth.dependencies import CurrentPrincipal
from hotline.auth.service import Principal
from hotline.kit.clock import Now


@dataclass(frozen=True)
class ReadLog:
    """Records the tickets a read endpoint answered with, once it has them: who, which path,
    when (the request's instant), in a short transaction of its own (audit.record_reads)."""

    request: Request
    principal: Principal
    now: datetime

    async def record(self, reads: Iterable[Read]) -> None:
        await record_reads(
            self.request.app.state.sessionmaker,
            self.principal,
            self.request.url.path,
            reads,
            now=self.now,
        )


async def read_log(request: Request, principal: CurrentPrincipal, now: Now) -> ReadLog:
    # The principal is the one the endpoint's role dependency authenticated (FastAPI runs
    # current_principal once per request).
    return ReadLog(request, principal, now)


AuditedReads = Annotated[ReadLog, Depends(read_log)]
