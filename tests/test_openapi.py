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


def test_every_authenticated_operation_names_the_roles_it_admits() -> None:
    import yaml

    doc = yaml.safe_load(render())
    roles = {
        (method, path): op.get("x-roles")
        for path, operations in doc["paths"].items()
        for method, op in operations.items()
    }
    for (method, path), admitted in roles.items():
        if path.startswith("/v1") and "401" in doc["paths"][path][method]["responses"]:
            assert admitted, f"{method} {path} names no roles"
    assert roles[("post", "/v1/tickets/{ticket_id}/sign")] == ["member", "officer", "worker"]
    assert roles[("post", "/v1/tickets/{ticket_id}/answer")] == ["agent"]
    assert roles[("get", "/v1/assignments")] == ["member", "officer", "worker"]
    assert "viewer" not in roles[("get", "/v1/tickets/{ticket_id}")]
