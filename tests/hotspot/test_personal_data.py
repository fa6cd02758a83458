"""No hot-spot text names a caller (DESIGN.md §8): not the keywords the viewer's dashboard shows,
not the ``cluster.found`` webhook, not the handling standard outside the centre."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import update

from hotline.hotspot.models import Cluster
from tests.conftest import Demo
from tests.hotspot.test_clusters import TEXTS, VILLAGE

NAME, PHONE, TYPED_PHONE, ID_CARD = "欧阳娜娜", "13900001111", "13812345678", "210124199001011234"
# What must never reach the viewer or a subscriber: the caller in pieces too (欧阳/ns 娜娜/nrt).
SECRETS = (NAME, "欧阳", "娜娜", PHONE, TYPED_PHONE, ID_CARD)


def appeal(text: str) -> str:
    return f"居民{NAME}反映：{text}，电话{TYPED_PHONE}，身份证{ID_CARD}"


async def post(
    client: httpx.AsyncClient, demo: Demo, text: str, caller: str = NAME
) -> dict[str, Any]:
    r = await client.post(
        "/v1/tickets",
        headers=demo.headers("agent"),
        json={
            "kind": "complaint",
            "category": "urban.drainage",
            "content": text,
            "caller": {"name": caller, "phone": PHONE},
            "location": {"address": "东湖公园北侧"},
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def subscribe(client: httpx.AsyncClient, demo: Demo) -> int:
    r = await client.post(
        "/v1/webhooks",
        json={"url": "https://sms.example/hook", "event_types": ["cluster.found"]},
        headers=demo.headers("admin"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def found(client: httpx.AsyncClient, demo: Demo, hook: int) -> list[dict[str, Any]]:
    """The cluster.found payloads queued for the webhook."""
    r = await client.get(f"/v1/webhooks/{hook}/deliveries", headers=demo.headers("admin"))
    assert r.status_code == 200, r.text
    return [d["payload"] for d in r.json() if d["event_type"] == "cluster.found"]


async def detect(client: httpx.AsyncClient, demo: Demo) -> None:
    r = await client.post("/v1/clusters/detect", headers=demo.headers("dispatcher"))
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


class TestKeywords:
    async def test_a_caller_who_names_themself_is_no_keyword_for_the_viewer_or_a_webhook(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        hook = await subscribe(client, demo)
        ids = [(await post(client, demo, appeal(t)))["id"] for t in TEXTS]
        await detect(client, demo)
        r = await client.get("/v1/clusters", headers=demo.headers("viewer"))
        assert r.status_code == 200
        (hot,) = r.json()
        assert [m["id"] for m in hot["members"]] == ids and hot["place"] == VILLAGE
        assert "停水" in hot["keywords"]
        assert leaked(r.text) == []
        (payload,) = await found(client, demo, hook)
        assert payload["data"]["cluster"]["keywords"] == hot["keywords"]
        assert leaked(json.dumps(payload, ensure_ascii=False)) == []

    async def test_a_name_typed_into_other_callers_appeals_is_no_keyword_either(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        # The agent typed a neighbour's name: only jieba's tags can tell it is a person.
        hook = await subscribe(client, demo)
        for text in TEXTS:
            await post(client, demo, f"居民{NAME}反映：{text}", caller="李四")
        await detect(client, demo)
        r = await client.get("/v1/clusters", headers=demo.headers("viewer"))
        (hot,) = r.json()
        assert "停水" in hot["keywords"] and leaked(r.text) == []
        assert leaked(json.dumps(await found(client, demo, hook), ensure_ascii=False)) == []

    async def test_keywords_kept_from_before_scrubbing_are_not_shown(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        """A cluster found by an earlier version may hold its caller's name as a keyword."""
        for text in TEXTS:
            await post(client, demo, appeal(text))
        await detect(client, demo)
        async with app.state.sessionmaker() as session, session.begin():
            await session.execute(
                update(Cluster).values(keywords=[NAME, "停水", f"电话{TYPED_PHONE}", "东湖"])
            )
        for role in ("viewer", "dispatcher"):
            r = await client.get("/v1/clusters", headers=demo.headers(role))
            assert r.json()[0]["keywords"] == ["停水", "东湖"], role


class TestStandard:
    async def test_the_viewer_reads_the_handling_standard_scrubbed_the_centre_as_written(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        for text in TEXTS:
            await post(client, demo, appeal(text))
        await detect(client, demo)
        dispatcher = demo.headers("dispatcher")
        (hot,) = (await client.get("/v1/clusters", headers=dispatcher)).json()
        standard = f"水务局统一抢修，先回复{NAME}（{TYPED_PHONE}），12号楼3单元优先"
        r = await client.post(
            f"/v1/clusters/{hot['id']}/assign",
            headers=dispatcher,
            json={"lead_unit": "210124-D-WATER", "standard": standard},
        )
        assert r.status_code == 200, r.text
        assert r.json()["standard"] == standard
        assert (await client.get("/v1/clusters", headers=dispatcher)).json()[0][
            "standard"
        ] == standard
        viewer = await client.get("/v1/clusters", headers=demo.headers("viewer"))
        assert (
            viewer.json()[0]["standard"]
            == "水务局统一抢修，先回复＊＊＊（＊＊＊），12号楼3单元优先"
        )
