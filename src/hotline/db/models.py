"""Every model module, imported once so the metadata alembic compares against is complete."""

from hotline.auth import models as auth_models
from hotline.db.base import Base
from hotline.org import models as org_models
from hotline.ticket import models as ticket_models

metadata = Base.metadata

__all__ = ["auth_models", "metadata", "org_models", "ticket_models"]
