"""Routing stays current in every API process: a boundary edited through one process routes the
next ticket in all of them, without a restart."""

from __future__ import annotations

import json

import httpx
import pytest

from hotline.config import Settings
from tests.server import serve

SQUARE = [[120.0, 40.0], [120.01, 40.0], [120.01, 40.01], [120.0, 40.01], [120.0, 40.0]]
BODY = {
    "kind": "help",
    "category": "urban.road",
    "content": "路灯不亮",
    "location": {"lat": 40.005, "lon": 120.005},
}


def routed_grids(base: str, agent: dict[str, str], n: int) -> set[str | None]:
    grids = set()
    for _ in range(n):
        # A new connection each time, so the kernel spreads them over the worker processes.
        with httpx.Client(base_url=base, headers=agent) as http:
            r = http.post("/v1/tickets", json=BODY)
            assert r.status_code == 201, r.text
            grids.add(r.json()["route"]["grid_code"])
    return grids


@pytest.mark.slow
def test_boundary_edit_reaches_every_worker_process(settings: Settings) -> None:
    with serve(settings, "--demo", workers=2) as server:
        people = json.loads((server.data_dir / "demo-keys.json").read_text())
        key = {p["role"]: p["key"] for p in people}
        agent = {"Authorization": f"Bearer {key['agent']}"}
        admin = {"Authorization": f"Bearer {key['admin']}"}
        pids = set()
        for _ in range(40):
            with httpx.Client(base_url=server.base) as http:
                pids.add(http.get("/healthz").json()["pid"])
        assert len(pids) == 2
        assert routed_grids(server.base, agent, 10) == {None}
        r = httpx.post(
            f"{server.base}/v1/units",
            headers=admin,
            json={
                "code": "G-FAR",
                "name": "飞地网格",
                "kind": "grid",
                "parent_code": "210124100002",
                "boundary": {"type": "Polygon", "coordinates": [SQUARE]},
            },
        )
        assert r.status_code == 201, r.text
        assert routed_grids(server.base, agent, 20) == {"G-FAR"}
        moved = [[x + 1, y] for x, y in SQUARE]
        r = httpx.patch(
            f"{server.base}/v1/grids/G-FAR",
            headers=admin,
            json={"boundary": {"type": "Polygon", "coordinates": [moved]}},
        )
        assert r.status_code == 200, r.text
        assert routed_grids(server.base, agent, 20) == {None}
