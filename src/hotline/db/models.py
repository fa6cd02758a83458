"""Every model module, imported once so the metadata alembic compares against is complete."""

from hotline.attachment import models as attachment_models
from hotline.audit import models as audit_models
from hotline.auth import models as auth_models
from hotline.change import models as change_models
from hotline.db import config_state
from hotline.db.base import Base
from hotline.escalation import models as escalation_models
from hotline.hotspot import models as hotspot_models
from hotline.idempotency import models as idempotency_models
from hotline.metrics import models as metrics_models
from hotline.org import models as org_models
from hotline.report import models as report_models
from hotline.sla import models as sla_models
from hotline.suggestion import models as suggestion_models
from hotline.ticket import models as ticket_models
from hotline.webhook import models as webhook_models
from hotline.workflow import models as workflow_models

metadata = Base.metadata

__all__ = [
    "attachment_models",
    "audit_models",
    "auth_models",
    "change_models",
    "config_state",
    "escalation_models",
    "hotspot_models",
    "idempotency_models",
    "metadata",
    "metrics_models",
    "org_models",
    "report_models",
    "sla_models",
    "suggestion_models",
    "ticket_models",
    "webhook_models",
    "workflow_models",
]
