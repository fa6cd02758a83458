"""Open311 as the spec and real clients expect it at its edges (issue 18, item 8): a request
without a description, address_id kept, any phone kept, the jurisdiction in discovery, HEAD,
OPTIONS and CORS for a browser map."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hotline.kit import phone as phones
from tests.conftest import Demo
from tests.open311.test_open311 import BASE, FORMATS, agent_key, created_id, records, xml

ORIGIN = "https://map.example.org"


async def read_back(client: httpx.AsyncClient, request_id: str, fmt: str) -> dict[str, Any]:
    r = await client.get(f"{BASE}/requests/{request_id}.{fmt}")
    assert r.status_code == 200, r.text
    [found] = records(r, fmt)
    return found


async def ticket(client: httpx.AsyncClient, demo: Demo, request_id: str, role: str) -> Any:
    r = await client.get(f"/v1/tickets/{request_id}", headers=demo.headers(role))
    assert r.status_code == 200, r.text
    return r.json()


class TestPostAsClientsSendIt:
    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_a_request_without_description_is_taken_and_reads_as_its_service(
        self, client: httpx.AsyncClient, demo: Demo, fmt: str
    ) -> None:
        # The npm open311 client's own example posts no description.
        r = await client.post(
            f"{BASE}/requests.{fmt}",
            data={"api_key": agent_key(demo), "service_code": "urban.road", "lat": "42.5"}
            | {"long": "123.4"},
        )
        assert r.status_code == 200, r.text
        [created] = records(r, fmt)
        found = await read_back(client, str(created["service_request_id"]), fmt)
        assert found["description"] == "道路设施"

    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_address_id_is_kept_and_read_back(
        self, client: httpx.AsyncClient, demo: Demo, fmt: str
    ) -> None:
        request_id = await created_id(client, demo, address_id="ADDR-000451-东湖")
        assert (await read_back(client, request_id, fmt))["address_id"] == "ADDR-000451-东湖"
        body = await ticket(client, demo, request_id, "agent")
        assert body["location"]["address_id"] == "ADDR-000451-东湖"

    async def test_address_id_alone_is_a_location_the_centre_triages(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        request_id = await created_id(client, demo, address_string=None, address_id="A-17")
        body = await ticket(client, demo, request_id, "agent")
        assert body["location"]["address_id"] == "A-17"
        assert body["status"] == "triage"

    @pytest.mark.parametrize(
        ("given", "kept"),
        [
            ("111-111-1111", "111-111-1111"),  # the open311 client's README example
            ("+1 (202) 555-0100", "+1 (202) 555-0100"),
            ("138 1234 5678", "13812345678"),  # a Chinese number is normalised as before
            ("12345", "12345"),  # the county's own hotline number, as a caller typed it
        ],
    )
    async def test_any_phone_is_kept_as_given_and_masked_in_reads(
        self, client: httpx.AsyncClient, demo: Demo, given: str, kept: str
    ) -> None:
        request_id = await created_id(client, demo, phone=given, first_name="三", last_name="张")
        assert (await ticket(client, demo, request_id, "agent"))["caller"]["phone"] == kept
        worker = await ticket(client, demo, request_id, "dispatcher")
        assert worker["caller"]["phone"] in (kept, phones.mask(kept))
        for fmt in FORMATS:
            r = await client.get(f"{BASE}/requests/{request_id}.{fmt}")
            assert kept not in r.text and given not in r.text

    async def test_contact_fields_of_any_length_never_refuse_a_request(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        request_id = await created_id(
            client,
            demo,
            first_name="Maximilian-Alexander " * 4,
            last_name="Featherstonehaugh-Cholmondeley",
            phone="+44 20 7946 0958 ext. 12345678901234567890",
            email="x" * 300 + "@example.com",
            device_id="d" * 500,
            account_id="a" * 500,
        )
        caller = (await ticket(client, demo, request_id, "agent"))["caller"]
        assert len(caller["name"]) <= 50 and caller["name"].startswith("Maximilian")
        assert caller["phone"].startswith("+44 20 7946 0958")


class TestDiscovery:
    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_discovery_names_the_jurisdiction_id_it_accepts(
        self, client: httpx.AsyncClient, demo: Demo, fmt: str
    ) -> None:
        r = await client.get(f"{BASE}/discovery.{fmt}")
        if fmt == "json":
            jurisdiction = r.json()["jurisdiction_id"]
        else:
            jurisdiction = xml(r, "discovery").findtext("jurisdiction_id")
        assert jurisdiction == "210124"
        # And it is the one the endpoint accepts.
        r = await client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": jurisdiction})
        assert r.status_code == 200


class TestMethodsAndCors:
    @pytest.mark.parametrize(
        "path", [f"{BASE}/services.json", f"{BASE}/requests.xml", f"{BASE}/discovery.json"]
    )
    async def test_head_answers_the_get_without_its_body(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        get = await client.get(path)
        head = await client.head(path)
        assert head.status_code == get.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["content-length"] == str(len(get.content))

    async def test_head_of_a_staff_read_needs_its_key_as_the_get_does(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        assert (await client.head("/v1/tickets")).status_code == 401
        r = await client.head("/v1/tickets", headers=demo.headers("agent"))
        assert r.status_code == 200 and r.content == b""

    @pytest.mark.parametrize(
        ("path", "methods"),
        [
            (f"{BASE}/requests.json", "GET, HEAD, OPTIONS, POST"),
            (f"{BASE}/discovery.xml", "GET, HEAD, OPTIONS"),
            ("/v1/tickets", "GET, HEAD, OPTIONS, POST"),
            # Its own route, not a grid called "import" (GET /v1/grids/{code}).
            ("/v1/grids/import", "OPTIONS, POST"),
        ],
    )
    async def test_options_and_405_name_every_method_of_the_path(
        self, client: httpx.AsyncClient, path: str, methods: str
    ) -> None:
        r = await client.options(path)
        assert r.status_code == 204
        assert r.headers["allow"] == methods
        r = await client.request("PUT", path)
        assert r.status_code == 405
        assert r.headers["allow"] == methods

    async def test_a_browser_map_on_another_site_may_read_open311(
        self, client: httpx.AsyncClient
    ) -> None:
        r = await client.get(f"{BASE}/requests.json", headers={"Origin": ORIGIN})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in r.headers
        preflight = await client.options(
            f"{BASE}/requests.json",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 200
        assert "GET" in preflight.headers["access-control-allow-methods"]

    async def test_no_other_site_may_script_the_staff_api_or_post_to_open311(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.get("/v1/tickets", headers={"Origin": ORIGIN, **demo.headers("agent")})
        assert "access-control-allow-origin" not in r.headers
        preflight = await client.options(
            "/v1/tickets",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert "access-control-allow-origin" not in preflight.headers
        preflight = await client.options(
            f"{BASE}/requests.json",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 400  # Starlette refuses a method it does not allow
