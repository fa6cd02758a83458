"""Personal data typed into free text (DESIGN.md §8): a caller's phone, ID-card number and name
typed into a ticket's content, address, notes and reply reach neither the viewer (every path the
viewer may read, the dashboard's data) nor any webhook payload.

What the viewer reads is taken from the OpenAPI document (every GET whose ``x-roles`` has the
viewer), so a path added later is walked too. Open311, the public reader, has its own tests.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from hotline.kit.clock import county_zone
from hotline.webhook.outbox import EVENT_TYPES
from tests.conftest import Demo
from tests.hotspot.test_clusters import TEXTS

GRID = "210124100002001"  # 东湖社区第一网格: where 东湖公园 routes
NAME, PHONE = "欧阳娜娜", "13900001111"
TYPED = {
    "mobile": "13812345678",
    "spaced mobile": "138 1234 5678",
    "landline": "024-87654321",
    "id card": "21012419900101123X",
}
SECRETS = (NAME, "欧阳", "娜娜", PHONE, *TYPED.values())


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


async def post(client: httpx.AsyncClient, demo: Demo, text: str, address: str) -> Any:
    body = {
        "kind": "complaint",
        "category": "urban.drainage",
        "content": text,
        "caller": {"name": NAME, "phone": PHONE},
        "location": {"address": address},
    }
    r = await client.post("/v1/tickets", json=body, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return r.json()


async def act(
    client: httpx.AsyncClient, headers: dict[str, str], ticket: Any, action: str, body: Any
) -> None:
    r = await client.post(f"/v1/tickets/{ticket['id']}/{action}", json=body, headers=headers)
    assert r.status_code == 200, (action, r.text)


def _enum(spec: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    if "enum" in schema:
        return list(schema["enum"])
    if "$ref" in schema:
        return list(
            spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]].get("enum", [])
        )
    return []


def _period_start(period: str) -> str:
    """The first day of the report period holding today (GET /v1/reports/{period}?start=)."""
    today = datetime.now(county_zone()).date()
    if period == "week":
        return (today - timedelta(days=today.weekday())).isoformat()
    month = today.month if period == "month" else 3 * ((today.month - 1) // 3) + 1
    return today.replace(month=month, day=1).isoformat()


def viewer_paths(app: Any, cluster_id: int) -> list[str]:
    """Every GET the viewer may make, with its path filled in (each value of an enumerated path
    parameter) and each enumerated query value; a report's start is its period's first day."""
    spec = app.openapi()
    values = {"code": GRID, "cluster_id": str(cluster_id)}
    paths = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None or "viewer" not in get.get("x-roles", []):
            continue
        fills = [{}]
        for parameter in (p for p in get.get("parameters", []) if p["in"] == "path"):
            choices = _enum(spec, parameter["schema"]) or [values.get(parameter["name"], "1")]
            fills = [{**f, parameter["name"]: str(c)} for f in fills for c in choices]
        for fill in fills:
            concrete = re.sub(r"\{(\w+)\}", lambda m, f=fill: f[m.group(1)], path)
            required = [
                p for p in get.get("parameters", []) if p["in"] == "query" and p["required"]
            ]
            if not required:
                paths.append(concrete)
            for parameter in required:
                if parameter["name"] == "start":
                    paths.append(f"{concrete}?start={_period_start(fill['period'])}")
                    continue
                enum = _enum(spec, parameter["schema"])
                assert enum, (path, parameter["name"])
                paths += [f"{concrete}?{parameter['name']}={value}" for value in enum]
    return paths


class TestTypedPersonalData:
    async def test_reaches_neither_the_viewer_nor_a_webhook(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        admin, dispatcher = demo.headers("admin"), demo.headers("dispatcher")
        r = await client.post(
            "/v1/webhooks",
            json={"url": "https://sms.example/hook", "event_types": list(EVENT_TYPES)},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        hook = r.json()["id"]
        typed = "，".join(f"{kind}{value}" for kind, value in TYPED.items())
        tickets = [
            await post(
                client,
                demo,
                f"居民{NAME}反映：{text}，{typed}",
                f"东湖公园北侧，联系人{NAME}{TYPED['mobile']}",
            )
            for text in TEXTS
        ]
        first = tickets[0]
        assert first["route"].get("grid_code") == GRID, first["route"]
        worker = demo.headers("worker", GRID)
        await act(client, dispatcher, first, "note", {"text": f"已联系{NAME}，{typed}"})
        await act(client, worker, first, "sign", {})
        await act(client, worker, first, "reply", {"text": f"已回复{NAME}（{TYPED['mobile']}）"})
        callback = {"reached": True, "resolution": "resolved", "satisfaction": "satisfied"}
        await act(client, demo.headers("agent"), first, "callback", callback)
        r = await client.post("/v1/clusters/detect", headers=dispatcher)
        assert r.json()["created"] == 1, r.text
        (cluster,) = (await client.get("/v1/clusters", headers=dispatcher)).json()

        seen: dict[str, str] = {}
        viewer = demo.headers("viewer")
        for path in [*viewer_paths(app, cluster["id"]), "/dashboard", "/dashboard/static/app.js"]:
            r = await client.get(path, headers=viewer)
            assert r.status_code < 500, (path, r.status_code)
            if path.startswith("/v1/reports/"):
                assert r.status_code == 200, (path, r.text)
            seen[path] = r.text
        assert {p: leaks(text) for p, text in seen.items() if leaks(text)} == {}
        # The walk read what it meant to: the hot spot, its keywords and figures.
        (shown,) = json.loads(seen["/v1/clusters"])
        assert shown["id"] == cluster["id"] and "停水" in shown["keywords"]
        assert json.loads(seen["/v1/metrics/summary"])["counts"]
        assert "/v1/metrics/breakdown?by=worker" in seen

        r = await client.get(f"/v1/webhooks/{hook}/deliveries?limit=500", headers=admin)
        payloads = [json.dumps(d["payload"], ensure_ascii=False) for d in r.json()]
        types = {d["event_type"] for d in r.json()}
        assert {"ticket.created", "ticket.signed", "ticket.closed", "cluster.found"} <= types
        assert [leaks(p) for p in payloads if leaks(p)] == []
