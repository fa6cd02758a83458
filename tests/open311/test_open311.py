"""Open311 GeoReport v2 over HTTP, in both formats, XML read back with a real parser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hotline.open311.endpoints import router
from tests.conftest import Demo

BASE = "/open311/v2"
GRID = "210124100002001"
FORMATS = ["json", "xml"]
ROAD = {"service_code": "urban.road", "description": "路面塌陷，井盖缺失"}
PERSON = {"first_name": "三", "last_name": "张", "phone": "13812345678", "email": "z3@example.com"}
# Every form the caller's name and phone could leak in.
SECRETS = ["张三", "13812345678", "138 1234 5678", "138****5678", "z3@example.com"]


@pytest.fixture(autouse=True)
def _open311(app: Any) -> None:
    # Until api.py includes the router, the tests include it themselves.
    if not any(getattr(r, "path", "").startswith("/open311") for r in app.routes):
        app.include_router(router)


def xml(r: httpx.Response, root: str) -> ET.Element:
    assert r.headers["content-type"] == "text/xml; charset=utf-8", r.text
    assert r.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    element = ET.fromstring(r.content)
    assert element.tag == root
    return element


def records(r: httpx.Response, fmt: str, root: str = "service_requests") -> list[dict[str, Any]]:
    """A list document as dicts of text (XML) or values (JSON)."""
    if fmt == "json":
        assert r.headers["content-type"] == "application/json; charset=utf-8", r.text
        return list(r.json())
    return [{child.tag: child.text for child in item} for item in xml(r, root)]


def errors(r: httpx.Response, fmt: str) -> list[tuple[int, str]]:
    return [(int(e["code"]), e["description"]) for e in records(r, fmt, "errors")]


def agent_key(demo: Demo) -> str:
    return str(demo.person("agent")["key"])


async def post(
    client: httpx.AsyncClient, demo: Demo, fmt: str = "json", **fields: Any
) -> httpx.Response:
    form = {"api_key": agent_key(demo), **ROAD, "address_string": "法库镇东湖公园北门", **fields}
    return await client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in form.items() if v})


async def created_id(client: httpx.AsyncClient, demo: Demo, **fields: Any) -> str:
    r = await post(client, demo, **fields)
    assert r.status_code == 200, r.text
    return str(r.json()[0]["service_request_id"])


async def grid_point(client: httpx.AsyncClient, demo: Demo, code: str) -> tuple[float, float]:
    from shapely.geometry import shape

    r = await client.get(f"/v1/grids/{code}", headers=demo.headers("admin"))
    point = shape(r.json()["geometry"]).representative_point()
    return point.y, point.x


class TestDiscoveryAndServices:
    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_discovery_names_this_endpoint_and_both_formats(
        self, client: httpx.AsyncClient, fmt: str
    ) -> None:
        r = await client.get(f"{BASE}/discovery.{fmt}")
        assert r.status_code == 200
        if fmt == "json":
            body = r.json()
            endpoint = body["endpoints"][0]
            formats = endpoint["formats"]
        else:
            root = xml(r, "discovery")
            body = {child.tag: child.text for child in root if child.tag != "endpoints"}
            node = root.find("endpoints/endpoint")
            assert node is not None
            endpoint = {child.tag: child.text for child in node}
            formats = [f.text for f in node.findall("formats/format")]
        assert {"changeset", "contact", "key_service"} <= body.keys()
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == "http://test/open311/v2"
        assert sorted(formats) == ["application/json", "text/xml"]

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_services_are_the_categories(self, client: httpx.AsyncClient, fmt: str) -> None:
        r = await client.get(f"{BASE}/services.{fmt}")
        assert r.status_code == 200
        water = next(s for s in records(r, fmt, "services") if s["service_code"] == "utility.water")
        assert water["service_name"] == "供水"
        assert water["group"] == "公用事业"
        assert water["type"] == "realtime"
        assert water["metadata"] in (True, "true")
        assert "停水" in water["keywords"].split(", ")

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_service_definition_lists_urgency_and_line(
        self, client: httpx.AsyncClient, fmt: str
    ) -> None:
        r = await client.get(f"{BASE}/services/utility.water.{fmt}")
        assert r.status_code == 200, r.text
        if fmt == "json":
            body = r.json()
            attributes = {a["code"]: a for a in body["attributes"]}
            code = body["service_code"]
            keys = {c: [v["key"] for v in a["values"]] for c, a in attributes.items()}
            names = [v["name"] for v in attributes["urgency"]["values"]]
            required = {a["required"] for a in attributes.values()}
        else:
            root = xml(r, "service_definition")
            code = root.findtext("service_code")
            nodes = {a.findtext("code"): a for a in root.findall("attributes/attribute")}
            attributes = {c: {e.tag: e.text for e in a} for c, a in nodes.items()}
            keys = {c: [v.text for v in a.findall("values/value/key")] for c, a in nodes.items()}
            names = [v.text for v in nodes["urgency"].findall("values/value/name")]
            required = {a["required"] for a in attributes.values()}
        assert code == "utility.water"
        assert keys == {
            "urgency": ["emergency", "utility", "normal"],
            "line": ["main", "enterprise", "relief"],
        }
        assert attributes["urgency"]["datatype"] == "singlevaluelist"
        assert required <= {False, "false"}
        assert any("紧急" in str(n) for n in names)

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_unknown_service_code_is_a_404_error_list(
        self, client: httpx.AsyncClient, fmt: str
    ) -> None:
        r = await client.get(f"{BASE}/services/no.such.{fmt}")
        assert r.status_code == 404
        [(code, description)] = errors(r, fmt)
        assert code == 404
        assert "service_code" in description

    async def test_a_suffix_other_than_json_or_xml_is_a_404(
        self, client: httpx.AsyncClient
    ) -> None:
        for path in ("services.html", "services.json.xml2", "services", "nowhere/at/all"):
            r = await client.get(f"{BASE}/{path}")
            assert r.status_code == 404, path
            assert errors(r, "xml")[0][0] == 404

    async def test_jurisdiction_is_the_county_or_nothing(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ok = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "210124"})
        assert ok.status_code == 200
        blank = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": ""})
        assert blank.status_code == 200
        other = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "sfgov.org"})
        assert other.status_code == 404
        assert "jurisdiction_id" in errors(other, "json")[0][1]


class TestPost:
    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_a_point_in_a_grid_creates_a_ticket_routed_there(
        self, client: httpx.AsyncClient, demo: Demo, fmt: str
    ) -> None:
        lat, lon = await grid_point(client, demo, GRID)
        r = await post(
            client,
            demo,
            fmt,
            address_string=None,
            lat=str(lat),
            long=str(lon),
            **PERSON,
            **{"attribute[urgency]": "emergency", "device_id": "d-1", "account_id": "a-1"},
        )
        assert r.status_code == 200, r.text
        [answer] = records(r, fmt)
        assert answer["account_id"] in (None, "")  # JSON null, XML an empty element
        notice = answer["service_notice"]
        assert "签收" in notice and "accepted by" in notice

        ticket = await client.get(
            f"/v1/tickets/{answer['service_request_id']}", headers=demo.headers("agent")
        )
        assert ticket.status_code == 200
        body = ticket.json()
        assert body["route"]["grid_code"] == GRID
        assert body["route"]["method"] == "point"
        assert body["status"] == "dispatched"
        assert (body["kind"], body["category"], body["urgency"]) == (
            "help",
            "urban.road",
            "emergency",
        )
        assert body["content"] == ROAD["description"]
        assert body["caller"]["name"] == "张三"
        assert body["caller"]["phone"] == "13812345678"
        assert body["location"]["wgs84"] == {"lat": lat, "lon": lon}
        grid = (await client.get(f"/v1/grids/{GRID}", headers=demo.headers("admin"))).json()
        assert grid["properties"]["name"] in notice

    async def test_the_same_idempotency_key_answers_with_the_first_ticket(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        first = await post(client, demo, idempotency_key="o311-1")
        again = await client.post(
            f"{BASE}/requests.json",
            data={"api_key": agent_key(demo), **ROAD, "address_string": "法库镇东湖公园北门"},
            headers={"Idempotency-Key": "o311-1"},
        )
        assert again.status_code == 200
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize("key", [None, "hl_nope_nope", "worker"])
    async def test_no_agent_key_is_a_403_error_list(
        self, client: httpx.AsyncClient, demo: Demo, fmt: str, key: str | None
    ) -> None:
        api_key = demo.person("worker")["key"] if key == "worker" else key
        r = await post(client, demo, fmt, api_key=api_key)
        assert r.status_code == 403
        [(code, description)] = errors(r, fmt)
        assert code == 403
        assert description

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize(
        ("fields", "status", "named"),
        [
            ({"service_code": None}, 400, "service_code 未提供"),
            ({"service_code": "no.such"}, 404, "service_code"),
            ({"jurisdiction_id": "sfgov.org"}, 404, "jurisdiction_id"),
            ({"description": "长" * 4001}, 400, "description"),
            ({"address_string": None}, 400, "未提供位置"),
            ({"address_string": None, "lat": "42.5"}, 400, "long"),
            ({"lat": "north", "long": "123.4"}, 400, "lat"),
            ({"attribute[urgency]": "whenever"}, 400, "attribute[urgency]"),
            ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ],
    )
    async def test_invalid_requests_name_the_field(
        self,
        client: httpx.AsyncClient,
        demo: Demo,
        fmt: str,
        fields: dict[str, Any],
        status: int,
        named: str,
    ) -> None:
        r = await post(client, demo, fmt, **fields)
        assert r.status_code == status, r.text
        listed = errors(r, fmt)
        assert {code for code, _ in listed} == {status}
        assert any(named in description for _, description in listed), listed

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_errors_are_english_when_asked_and_keep_the_spec_format(
        self, client: httpx.AsyncClient, demo: Demo, fmt: str
    ) -> None:
        form = {"api_key": agent_key(demo), "address_string": "法库镇东湖公园北门"}
        asked = {"Accept-Language": "en-US,en;q=0.9,zh;q=0.1"}
        r = await client.post(f"{BASE}/requests.{fmt}", data=form, headers=asked)
        assert r.status_code == 400, r.text
        assert errors(r, fmt) == [(400, "service_code was not provided")]
        assert r.headers["content-language"] == "en"
        assert "Accept-Language" in r.headers["vary"]
        r = await client.post(f"{BASE}/requests.{fmt}", data=form)
        assert errors(r, fmt) == [(400, "service_code 未提供")]
        assert r.headers["content-language"] == "zh-CN"
        r = await client.get(f"{BASE}/requests/999999.{fmt}", headers=asked)
        assert errors(r, fmt) == [(404, "No such service request")]
        r = await client.get(f"{BASE}/requests/999999.{fmt}")
        assert errors(r, fmt) == [(404, "没有这个诉求")]

    async def test_a_json_body_is_refused_for_the_form(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.post(f"{BASE}/requests.json", json={"api_key": agent_key(demo), **ROAD})
        assert r.status_code == 400
        assert "x-www-form-urlencoded" in errors(r, "json")[0][1]


async def close(client: httpx.AsyncClient, demo: Demo, request_id: str, text: str) -> None:
    r = await client.post(
        f"/v1/tickets/{request_id}/answer", json={"text": text}, headers=demo.headers("agent")
    )
    assert r.status_code == 200, r.text


class TestRead:
    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_one_request_reads_back_in_the_spec_fields(
        self, client: httpx.AsyncClient, demo: Demo, fmt: str
    ) -> None:
        media = "https://img.example/a.jpg"
        request_id = await created_id(client, demo, media_url=media, **PERSON)
        r = await client.get(f"{BASE}/requests/{request_id}.{fmt}")
        assert r.status_code == 200, r.text
        [found] = records(r, fmt)
        assert {
            "service_request_id", "status", "status_notes", "service_name", "service_code",
            "description", "agency_responsible", "service_notice", "requested_datetime",
            "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
            "lat", "long", "media_url",
        } == found.keys()  # fmt: skip
        assert str(found["service_request_id"]) == request_id
        assert found["status"] == "open"
        assert (found["service_code"], found["service_name"]) == ("urban.road", "道路设施")
        assert found["description"] == ROAD["description"]
        assert found["media_url"] == media
        assert found["address"] == "法库镇东湖公园北门"
        assert found["agency_responsible"] == "东湖社区第一网格"
        for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert found[field].endswith("+08:00")
            datetime.fromisoformat(found[field])

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_unknown_ids_and_tokens_are_404_error_lists(
        self, client: httpx.AsyncClient, demo: Demo, fmt: str
    ) -> None:
        for path in ("requests/999999", "requests/abc", "requests/99999999999999", "tokens/4242"):
            r = await client.get(f"{BASE}/{path}.{fmt}")
            assert r.status_code == 404, path
            assert errors(r, fmt)[0][0] == 404

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_a_token_is_the_request_id(
        self, client: httpx.AsyncClient, demo: Demo, fmt: str
    ) -> None:
        request_id = await created_id(client, demo)
        r = await client.get(f"{BASE}/tokens/{request_id}.{fmt}")
        assert r.status_code == 200
        [found] = records(r, fmt)
        assert (str(found["service_request_id"]), str(found["token"])) == (request_id, request_id)

    async def test_filters_by_status_service_code_and_window(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        road = await created_id(client, demo)
        water = await created_id(client, demo, service_code="utility.water")
        await close(client, demo, road, "已转交市政维修队修复")

        async def ids(**query: str) -> list[str]:
            r = await client.get(f"{BASE}/requests.json", params=query)
            assert r.status_code == 200, r.text
            return [str(x["service_request_id"]) for x in r.json()]

        assert await ids() == [water, road]  # newest first
        assert await ids(status="closed") == [road]
        assert await ids(status="open") == [water]
        assert await ids(status="open,closed") == [water, road]
        assert await ids(service_code="utility.water,environment.noise") == [water]
        assert await ids(service_request_id=f"{road}, 424242", status="open") == [road]
        assert await ids(page_size="1") == [water]
        assert await ids(page_size="1", page="2") == [road]
        now = datetime.now(UTC)
        day = timedelta(days=1)
        inside = {"start_date": (now - day).isoformat(), "end_date": (now + day).isoformat()}
        assert await ids(**inside) == [water, road]
        assert await ids(start_date="2020-01-01T00:00:00+08:00") == []
        assert await ids(end_date="2020-01-01T00:00:00Z") == []
        # An unescaped "+" arrives as a space and still means the offset.
        r = await client.get(
            f"{BASE}/requests.json?start_date={(now - day):%Y-%m-%dT%H:%M:%S} 00:00"
        )
        assert [str(x["service_request_id"]) for x in r.json()] == [water, road]
        closed = (await client.get(f"{BASE}/requests/{road}.json")).json()[0]
        assert closed["status"] == "closed"
        assert "已直接答复" in closed["status_notes"]
        assert "市政维修队" in closed["status_notes"]

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize(
        ("query", "named"),
        [
            ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"}, "90"),
            ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "end"),
            ({"start_date": "2026-01-01T00:00:00"}, "start_date"),
            ({"start_date": "yesterday"}, "start_date"),
            ({"status": "pending"}, "status"),
            ({"page_size": "1001"}, "page_size"),
            ({"api_key": "hl_wrong_key"}, "API 密钥"),
        ],
    )
    async def test_bad_query_is_an_error_list(
        self, client: httpx.AsyncClient, fmt: str, query: dict[str, str], named: str
    ) -> None:
        r = await client.get(f"{BASE}/requests.{fmt}", params=query)
        expected = 403 if "api_key" in query else 400
        assert r.status_code == expected, r.text
        [(code, description)] = errors(r, fmt)
        assert code == expected
        assert named in description

    async def test_the_first_1000_come_by_default_and_a_repeated_parameter_is_refused(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        made = {await created_id(client, demo) for _ in range(55)}
        r = await client.get(f"{BASE}/requests.json")
        assert r.status_code == 200, r.text
        assert {str(x["service_request_id"]) for x in r.json()} == made  # not the first 50
        assert len((await client.get(f"{BASE}/requests.json?page_size=1000")).json()) == 55
        for fmt in FORMATS:
            r = await client.get(f"{BASE}/requests.{fmt}?status=open&status=closed")
            assert r.status_code == 400, r.text
            [(code, description)] = errors(r, fmt)
            assert code == 400 and description.startswith("status")
        assert (await client.get(f"{BASE}/requests.json?status=open,closed")).status_code == 200

    async def test_a_valid_api_key_is_accepted_on_reads(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.get(f"{BASE}/requests.xml", params={"api_key": agent_key(demo)})
        assert r.status_code == 200
        xml(r, "service_requests")

    async def test_confidential_tickets_are_not_public(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        report = {"kind": "report", "category": "urban.construction", "content": "邻居违建"}
        r = await client.post("/v1/tickets", json=report, headers=demo.headers("agent"))
        hidden = str(r.json()["id"])
        assert (await client.get(f"{BASE}/requests/{hidden}.json")).status_code == 404
        listed = (await client.get(f"{BASE}/requests.json")).json()
        assert hidden not in [str(x["service_request_id"]) for x in listed]

    async def test_xml_stays_well_formed_with_any_text(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        request_id = await created_id(client, demo, description="<b>&破损</b>\x01\x1b ]]>")
        r = await client.get(f"{BASE}/requests/{request_id}.xml")
        [found] = records(r, "xml")
        assert found["description"] == "<b>&破损</b> ]]>"


class TestPersonalData:
    async def test_name_phone_and_email_never_appear(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        bodies = []
        ids = []
        for fmt in FORMATS:
            r = await post(
                client, demo, fmt, description="请回电 138 1234 5678，张三反映", **PERSON
            )
            assert r.status_code == 200, r.text
            bodies.append(r.text)
            ids.append(str(records(r, fmt)[0]["service_request_id"]))
        await close(client, demo, ids[0], "已电话联系张三（13812345678），问题已解决")
        for fmt in FORMATS:
            for path in (
                "requests",
                f"requests/{ids[0]}",
                f"requests/{ids[1]}",
                f"tokens/{ids[0]}",
            ):
                r = await client.get(f"{BASE}/{path}.{fmt}")
                assert r.status_code == 200, r.text
                bodies.append(r.text)
        for body in bodies:
            for secret in SECRETS:
                assert secret not in body
        ticket = await client.get(f"/v1/tickets/{ids[0]}", headers=demo.headers("agent"))
        assert ticket.json()["caller"]["name"] == "张三"  # kept, just never shown here
        shown = (await client.get(f"{BASE}/requests/{ids[0]}.json")).json()[0]
        assert shown["description"] == "请回电 ＊＊＊，＊＊＊反映"
        assert "＊＊＊" in shown["status_notes"]

    async def test_personal_data_typed_into_the_address_or_text_never_appears(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        # What an outside review posted: a phone in the address, the caller's name in the text.
        request_id = await created_id(
            client,
            demo,
            address_string="东湖公园北门 联系电话13912345678",
            description="居民欧阳娜娜反映路面塌陷，身份证210124199001011234",
            first_name="娜娜",
            last_name="欧阳",
            phone="+1 202 555 0100",
        )
        for fmt in FORMATS:
            r = await client.get(f"{BASE}/requests/{request_id}.{fmt}")
            for secret in ("13912345678", "欧阳娜娜", "210124199001011234", "202 555 0100"):
                assert secret not in r.text, (fmt, secret)
            [found] = records(r, fmt)
            assert found["address"] == "东湖公园北门 联系电话＊＊＊"
            assert "路面塌陷" in found["description"]
