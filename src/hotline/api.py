"""The table of contents of the HTTP surface: one line per domain."""

from fastapi import APIRouter

from hotline.health.endpoints import router as health
from hotline.org.endpoints import router as organisation
from hotline.ticket.endpoints import router as tickets

router = APIRouter()
router.include_router(health)
router.include_router(tickets)
router.include_router(organisation)
