"""The table of contents of the HTTP surface: one line per domain."""

from fastapi import APIRouter

from hotline.attachment.endpoints import router as attachments
from hotline.audit.endpoints import router as audit
from hotline.caller.endpoints import router as callers
from hotline.dashboard.endpoints import router as dashboard
from hotline.escalation.endpoints import router as escalation
from hotline.field.endpoints import router as field
from hotline.health.endpoints import router as health
from hotline.hotspot.endpoints import router as hotspots
from hotline.intake.endpoints import router as intake
from hotline.metrics.endpoints import router as metrics
from hotline.open311.endpoints import router as open311
from hotline.ops.prometheus import router as prometheus
from hotline.org.endpoints import router as organisation
from hotline.report.endpoints import router as reports
from hotline.sla.endpoints import router as clocks
from hotline.suggestion.endpoints import router as suggestions
from hotline.ticket.endpoints import router as tickets
from hotline.webhook.endpoints import router as webhooks
from hotline.workflow.endpoints import router as workflow

router = APIRouter()
router.include_router(health)
router.include_router(prometheus)
router.include_router(intake)
router.include_router(tickets)
router.include_router(callers)
router.include_router(suggestions)
router.include_router(organisation)
router.include_router(workflow)
router.include_router(attachments)
router.include_router(escalation)
router.include_router(clocks)
router.include_router(metrics)
router.include_router(hotspots)
router.include_router(reports)
router.include_router(webhooks)
router.include_router(audit)
router.include_router(open311)
router.include_router(dashboard)
router.include_router(field)
