"""openapi.yaml, generated from the app (a test and `hotline openapi --check` fail on drift)."""

from __future__ import annotations

import yaml

from hotline.app import create_app
from hotline.config import Settings


def render() -> str:
    app = create_app(Settings(data_dir="/nonexistent-hotline-openapi"))
    return yaml.safe_dump(app.openapi(), sort_keys=False, allow_unicode=True, width=100)
