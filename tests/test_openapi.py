"""openapi.yaml is generated from the app; a drift fails here and in `hotline openapi --check`."""

from __future__ import annotations

from pathlib import Path

from hotline.openapi_export import render

ROOT = Path(__file__).resolve().parents[1]


def test_openapi_yaml_matches_the_app() -> None:
    assert (ROOT / "openapi.yaml").read_text() == render(), "run `hotline openapi`"


def test_every_operation_declares_its_problems() -> None:
    import yaml

    doc = yaml.safe_load(render())
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if path.startswith("/v1"):
                assert "401" in op["responses"], f"{method} {path}"
