"""County import over HTTP: what a file may do to the tree of units, coordinates, limits, and
what the map is served (issue 18, item 3)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hotline.app import create_app
from hotline.auth.roles import Role
from hotline.config import Settings
from hotline.org import rings, simplify
from hotline.org.models import Unit
from tests.conftest import Demo, Keys

METRE = 1 / 111_320  # a metre in degrees of latitude


def rect(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def unit(
    code: str, kind: str, parent: str | None = None, geometry: Any = None, **props: Any
) -> dict[str, Any]:
    properties = {"code": code, "name": f"{code}名", "kind": kind, "parent_code": parent, **props}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


# A small county of its own: C > T > V > G1, G2 (V's committee sits in G1).
BASE = collection(
    unit("C", "county"),
    unit("T", "township", "C"),
    unit("V", "village", "T", default_grid="G1"),
    unit("G1", "grid", "V", rect(120.0, 40.0, 120.01, 40.01)),
    unit("G2", "grid", "V", rect(120.01, 40.0, 120.02, 40.01)),
)
FAR = rect(121.0, 41.0, 121.01, 41.01)  # overlaps nothing


def located(lat: float, lon: float) -> dict[str, Any]:
    """A ticket for the grid where it lies (a street light: no department's duty)."""
    location = {"lat": lat, "lon": lon}
    return {"kind": "help", "category": "urban.road", "content": "路灯不亮", "location": location}


async def post(client: httpx.AsyncClient, doc: Any, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/v1/grids/import", json=doc, headers=headers)


async def post_raw(client: httpx.AsyncClient, text: str, headers: dict[str, str]) -> httpx.Response:
    headers = {**headers, "content-type": "application/json"}
    return await client.post("/v1/grids/import", content=text.encode(), headers=headers)


def problems(r: httpx.Response) -> list[tuple[int, str | None, str]]:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_county_file"
    assert r.headers["content-type"] == "application/problem+json"
    return [(p["index"], p["code"], p["problem"]) for p in body["problems"]]


async def organisation(app: Any) -> list[tuple[Any, ...]]:
    """Every unit as stored, to compare before and after a refused import."""
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(select(Unit).order_by(Unit.code))
        return [
            (u.code, u.name, u.kind, u.parent_code, u.aliases, u.boundary, u.default_grid_code)
            for u in rows
        ]


@pytest.fixture
async def base(client: httpx.AsyncClient, keys: Keys) -> dict[str, str]:
    r = await post(client, BASE, keys[Role.admin])
    assert r.status_code == 200, r.text
    return keys[Role.admin]


async def far_grid(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """A grid of its own in the demo county (no worker, no ticket) at FAR."""
    body = {"code": "G-FAR", "name": "飞地", "kind": "grid", "parent_code": "210124100002"}
    r = await client.post("/v1/units", json={**body, "boundary": FAR}, headers=admin)
    assert r.status_code == 201, r.text


def far_as_village(*, halves: int = 2) -> dict[str, Any]:
    """G-FAR as a village whose new grids cover ``halves`` of its two halves."""
    features = [unit("G-FAR", "village", "210124100")]
    features += [unit("G-FAR-W", "grid", "G-FAR", rect(121.0, 41.0, 121.005, 41.01))]
    if halves == 2:
        features += [unit("G-FAR-E", "grid", "G-FAR", rect(121.005, 41.0, 121.01, 41.01))]
    return collection(*features)


class TestKindChange:
    async def test_a_grid_with_a_worker_turned_into_a_village_is_refused(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        admin, code = demo.headers("admin"), "210124100002001"
        stored = await client.get(f"/v1/grids/{code}?full=true", headers=admin)
        (x0, y0), _, (x1, y1), *_ = stored.json()["geometry"]["coordinates"][0]
        mid = (x0 + x1) / 2
        doc = collection(
            unit(code, "village", "210124100"),
            unit("NEW-W", "grid", code, rect(x0, y0, mid, y1)),
            unit("NEW-E", "grid", code, rect(mid, y0, x1, y1)),
        )
        before = await organisation(app)
        found = problems(await post(client, doc, admin))
        assert {(i, c) for i, c, _ in found} == {(0, code)}
        texts = [p for _, _, p in found]
        worker = demo.person("worker", code)["staff_id"]
        assert any(f"staff {worker} (worker)" in p and "a village" in p for p in texts), texts
        assert "cannot change from grid to village: it is the default grid of 210124100002" in (
            texts
        )
        assert not any("would lie in no grid" in p for p in texts)  # the new grids cover it
        assert await organisation(app) == before

    async def test_a_grid_with_an_open_ticket_turned_into_a_village_is_refused(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        admin = demo.headers("admin")
        await far_grid(client, admin)
        ticket = located(41.005, 121.002)
        r = await client.post("/v1/tickets", json=ticket, headers=demo.headers("agent"))
        assert r.json()["route"]["grid_code"] == "G-FAR", r.json()["route"]
        assert problems(await post(client, far_as_village(), admin)) == [
            (
                0,
                "G-FAR",
                "cannot change from grid to village: 1 open ticket(s) name it; "
                "close or move them first",
            )
        ]

    async def test_a_grid_nothing_holds_becomes_a_village_of_the_grids_that_cover_it(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        admin = demo.headers("admin")
        await far_grid(client, admin)
        r = await post(client, far_as_village(), admin)
        assert r.status_code == 200, r.text
        assert (await client.get("/v1/units/G-FAR", headers=admin)).json()["kind"] == "village"
        ticket = located(41.005, 121.007)
        routed = await client.post("/v1/tickets", json=ticket, headers=demo.headers("agent"))
        assert routed.json()["route"]["grid_code"] == "G-FAR-E"

    async def test_a_grid_whose_area_the_file_leaves_in_no_grid_is_refused(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        admin = demo.headers("admin")
        await far_grid(client, admin)
        assert problems(await post(client, far_as_village(halves=1), admin)) == [
            (
                0,
                "G-FAR",
                "cannot change from grid to village: 5e-05 deg² of its area would lie in no grid",
            )
        ]

    async def test_a_village_with_grids_reimported_as_a_grid_is_refused(
        self, app: Any, client: httpx.AsyncClient, base: dict[str, str]
    ) -> None:
        before = await organisation(app)
        found = problems(await post(client, collection(unit("V", "grid", "T", FAR)), base))
        assert found == [
            (
                0,
                "V",
                "cannot change from village to grid: its child units G1 (grid), G2 (grid) "
                "cannot sit under a grid",
            )
        ]
        assert await organisation(app) == before

    async def test_a_grid_under_a_grid_is_refused(
        self, client: httpx.AsyncClient, base: dict[str, str]
    ) -> None:
        found = problems(await post(client, collection(unit("G3", "grid", "G1", FAR)), base))
        assert found == [
            (0, "G3", "parent G1 is a grid; a grid sits under a village, township or county")
        ]

    async def test_a_parent_of_the_wrong_kind_is_refused(
        self, client: httpx.AsyncClient, base: dict[str, str]
    ) -> None:
        found = problems(await post(client, collection(unit("T2", "township", "V")), base))
        assert found == [(0, "T2", "parent V is a village; a township sits under a county")]

    async def test_problems_name_the_features_place_in_the_file(
        self, client: httpx.AsyncClient, base: dict[str, str]
    ) -> None:
        doc = collection(unit("bad code!", "village", "T"), unit("G3", "grid", "NOPE", FAR))
        found = problems(await post(client, doc, base))
        assert [(i, c) for i, c, _ in found] == [(0, None), (1, "G3")]
        assert found[1][2] == "unknown parent NOPE"


class TestCycles:
    async def test_two_new_units_that_are_each_others_parent(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        doc = collection(unit("A", "village", "B"), unit("B", "village", "A"))
        found = problems(await post(client, doc, keys[Role.admin]))
        assert (0, "A", "parent chain A → B → A is a cycle") in found
        assert await organisation(app) == []

    async def test_a_longer_cycle_in_the_file(self, client: httpx.AsyncClient, keys: Keys) -> None:
        doc = collection(
            unit("T1", "township", "T3"), unit("T2", "township", "T1"), unit("T3", "township", "T2")
        )
        found = problems(await post(client, doc, keys[Role.admin]))
        assert (0, "T1", "parent chain T1 → T3 → T2 → T1 is a cycle") in found

    async def test_a_cycle_through_stored_units(
        self, app: Any, client: httpx.AsyncClient, base: dict[str, str]
    ) -> None:
        before = await organisation(app)
        found = problems(await post(client, collection(unit("C", "county", "V")), base))
        assert found == [
            (0, "C", "parent V is a village; a county has no parent"),
            (0, "C", "parent chain C → V → T → C is a cycle"),
        ]
        assert await organisation(app) == before

    async def test_a_parent_changed_through_the_units_api_keeps_the_tree(
        self, client: httpx.AsyncClient, base: dict[str, str]
    ) -> None:
        r = await client.patch("/v1/units/T", json={"parent_code": "V"}, headers=base)
        assert r.status_code == 422
        assert r.json()["field"] == "parent_code"
        assert r.json()["detail"] == "V 不能作为 T 的上级单位：乡镇（街道）的上级应为县"
        english = {**base, "Accept-Language": "en"}
        r = await client.patch("/v1/units/T", json={"parent_code": "V"}, headers=english)
        assert r.json()["detail"] == "V cannot be the parent of T: a township sits under a county"


def feature_text(coordinates: str, code: str = "X") -> str:
    return (
        f'{{"type": "Feature", "properties": {{"code": "{code}", "name": "x"}}, '
        f'"geometry": {{"type": "Polygon", "coordinates": [{coordinates}]}}}}'
    )


SOUND = feature_text("[[120, 40], [120.01, 40], [120.01, 40.01], [120, 40.01], [120, 40]]", "OK")


class TestCoordinates:
    @pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e400"])
    async def test_a_non_finite_longitude_is_refused_naming_the_feature(
        self, client: httpx.AsyncClient, keys: Keys, literal: str
    ) -> None:
        ring = f"[[121, 41], [{literal}, 41], [121.01, 41.01], [121, 41.01], [121, 41]]"
        text = f'{{"type": "FeatureCollection", "features": [{SOUND}, {feature_text(ring)}]}}'
        [(index, code, problem)] = problems(await post_raw(client, text, keys[Role.admin]))
        assert (index, code) == (1, "X")
        assert problem.startswith("non-finite coordinate") and problem.endswith("ring 0")

    async def test_a_non_finite_altitude_is_refused_on_every_database(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        # SQLite stored it and served null; PostgreSQL refused the row: a 500.
        ring = "[[121, 41, Infinity], [121.01, 41, 0], [121.01, 41.01, 0], [121, 41, Infinity]]"
        text = f'{{"type": "FeatureCollection", "features": [{feature_text(ring)}]}}'
        found = problems(await post_raw(client, text, keys[Role.admin]))
        assert found == [(0, "X", "non-finite coordinate Infinity at position 0 of ring 0")]
        assert await organisation(app) == []

    async def test_an_unclosed_ring_is_refused_on_every_database(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        ring = [[121, 41], [121.01, 41], [121.01, 41.01], [121, 41.01]]
        doc = collection(unit("X", "grid", None, {"type": "Polygon", "coordinates": [ring]}))
        found = problems(await post(client, doc, keys[Role.admin]))
        assert found == [
            (
                0,
                "X",
                "malformed geometry: ring 0 is not closed: it starts at (121.0, 41.0) "
                "and ends at (121.0, 41.01)",
            )
        ]
        assert await organisation(app) == []

    async def test_a_ring_of_three_positions_is_refused(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        ring = [[121, 41], [121.01, 41], [121, 41]]
        doc = collection(unit("X", "grid", None, {"type": "Polygon", "coordinates": [ring]}))
        [(_, _, problem)] = problems(await post(client, doc, keys[Role.admin]))
        assert problem.startswith("malformed geometry: ring 0 has 3 positions")

    async def test_a_boundary_through_the_units_api_is_checked_the_same(
        self, client: httpx.AsyncClient, base: dict[str, str]
    ) -> None:
        ring = "[[121, 41, 0], [121.01, 41, 0], [121.01, 41.01, 0], [121, 41, Infinity]]"
        body = (
            '{"code": "G9", "name": "x", "kind": "grid", "parent_code": "V", '
            f'"boundary": {{"type": "Polygon", "coordinates": [{ring}]}}}}'
        )
        headers = {**base, "content-type": "application/json"}
        r = await client.post("/v1/units", content=body.encode(), headers=headers)
        assert r.status_code == 422
        assert r.json()["field"] == "boundary"
        assert r.json()["detail"] == (
            "边界无效：non-finite coordinate Infinity at position 3 of ring 0"
        )
        unclosed = {"type": "Polygon", "coordinates": [[[120, 40], [120.01, 40], [120, 40.01]]]}
        r = await client.patch("/v1/grids/G1", json={"boundary": unclosed}, headers=base)
        assert r.status_code == 422
        assert "ring 0 has 3 positions" in r.json()["detail"]


def bumped(n: int) -> dict[str, Any]:
    """A 0.01° square at (121, 41) of ``n`` positions, its north edge bulging by 2 m: less than
    the map's tolerance, so the map draws a plain square."""
    x0, y0, x1, y1 = 121.0, 41.0, 121.01, 41.01
    k = n - 3
    north = [
        [x1 - (x1 - x0) * i / (k - 1), y1 + 2 * METRE * math.sin(math.pi * i / (k - 1))]
        for i in range(k)
    ]
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], *north, [x0, y0]]]}


class TestBounds:
    async def test_a_grid_at_the_bound_routes_by_its_boundary_and_is_drawn_simplified(
        self, client: httpx.AsyncClient, base: dict[str, str], keys: Keys
    ) -> None:
        boundary = bumped(rings.MAX_POSITIONS)
        assert rings.positions(boundary) == 10_000
        r = await post(client, collection(unit("BUMP", "grid", "V", boundary)), base)
        assert r.status_code == 200, r.text
        page = await client.get("/v1/grids", headers=keys[Role.viewer])
        drawn = next(f["geometry"] for f in page.json()["features"] if f["id"] == "BUMP")
        assert drawn == rect(121.0, 41.0, 121.01, 41.01)
        assert len(page.content) < 5_000
        full = await client.get("/v1/grids/BUMP?full=true", headers=keys[Role.viewer])
        assert full.json()["geometry"] == json.loads(json.dumps(boundary))
        # Inside the bulge, 1 m north of the square the map draws: routing sees the bulge.
        ticket = located(41.01 + METRE, 121.005)
        routed = await client.post("/v1/tickets", json=ticket, headers=keys[Role.agent])
        assert routed.json()["route"]["grid_code"] == "BUMP"

    async def test_one_position_over_the_bound_is_refused(
        self, client: httpx.AsyncClient, base: dict[str, str]
    ) -> None:
        doc = collection(unit("G1", "grid", "V"), unit("BUMP", "grid", "V", bumped(10_001)))
        found = problems(await post(client, doc, base))
        assert (1, "BUMP", "geometry has 10,001 positions; at most 10,000 per geometry") in found

    async def test_a_million_position_polygon_is_refused_and_the_map_stays_as_it_was(
        self, app: Any, client: httpx.AsyncClient, base: dict[str, str], keys: Keys
    ) -> None:
        page = (await client.get("/v1/grids", headers=keys[Role.viewer])).content
        before = await organisation(app)
        ring = "[" + "[121, 41], " * 999_999 + "[121, 41]]"
        text = f'{{"type": "FeatureCollection", "features": [{feature_text(ring, "HUGE")}]}}'
        assert len(text) > 10_000_000
        started = time.perf_counter()
        found = problems(await post_raw(client, text, base))
        assert time.perf_counter() - started < 30
        assert found == [
            (0, "HUGE", "geometry has 1,000,000 positions; at most 10,000 per geometry")
        ]
        assert await organisation(app) == before
        assert (await client.get("/v1/grids", headers=keys[Role.viewer])).content == page


class TestBodyLimit:
    async def test_an_import_over_the_byte_bound_is_413_before_it_is_read(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        limit = Settings().max_import_bytes
        assert limit == 64 * 2**20
        body = b" " * (limit + 1)
        headers = {**keys[Role.admin], "content-type": "application/json"}
        started = time.perf_counter()
        r = await client.post("/v1/grids/import", content=body, headers=headers)
        assert time.perf_counter() - started < 5
        assert r.status_code == 413
        assert r.json()["code"] == "payload_too_large"
        route = app.openapi()["paths"]["/v1/grids/import"]["post"]
        assert "413" in route["responses"]
        assert "64 MiB" in route["description"] and "10,000 positions" in route["description"]

    async def test_a_streamed_import_is_cut_off_at_the_bound_and_the_server_answers_on(
        self, settings: Settings, keys: Keys
    ) -> None:
        small = create_app(settings.model_copy(update={"max_import_bytes": 2**20}))
        sent = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal sent
            for _ in range(1_000):  # 64 MB, were it all read
                sent += 1
                yield b" " * 2**16

        async with small.router.lifespan_context(small):
            transport = httpx.ASGITransport(app=small)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                headers = {**keys[Role.admin], "content-type": "application/json"}
                started = time.perf_counter()
                r = await http.post("/v1/grids/import", content=chunks(), headers=headers)
                assert r.status_code == 413
                assert time.perf_counter() - started < 5
                assert sent <= 2**20 // 2**16 + 2  # stopped at the bound, not at the end
                healthy = await http.get("/v1/grids", headers=keys[Role.viewer])
                assert healthy.status_code == 200


class TestMap:
    async def test_the_demo_map_is_served_as_stored(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        page = await client.get("/v1/grids?limit=1000", headers=demo.headers("viewer"))
        async with app.state.sessionmaker() as session:
            rows = await session.scalars(select(Unit).where(Unit.kind == "grid"))
            stored = {u.code: u.boundary for u in rows}
        drawn = {f["id"]: f["geometry"] for f in page.json()["features"]}
        assert drawn == stored
        assert all(rings.positions(g) <= simplify.KEEP for g in stored.values())

    async def test_a_refused_county_file_changes_nothing_it_would_have_changed(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        from hotline.demo.county import demo_county

        doc = demo_county()
        for feature in doc["features"]:
            feature["properties"]["name"] += "（改）"
        doc["features"].append(unit("LOOP-A", "village", "LOOP-B"))
        doc["features"].append(unit("LOOP-B", "village", "LOOP-A"))
        before = await organisation(app)
        found = problems(await post(client, doc, demo.headers("admin")))
        assert any(p.endswith("is a cycle") for _, _, p in found)
        assert await organisation(app) == before
