"""A real Open311 client against the real server: PyPI's ``georeport`` (it reads; it has no
call to post) reads back, in JSON and in XML, every request posted to `hotline serve`."""

from __future__ import annotations

import json

import httpx
import pytest
from georeport import GeoReport

from hotline.config import Settings
from tests.server import serve

POSTED = 76  # more than the 50 a first page used to hold


@pytest.mark.slow
def test_georeport_reads_every_request_it_was_sent_in_json_and_xml(settings: Settings) -> None:
    with serve(settings, "--demo") as server:
        people = json.loads((server.data_dir / "demo-keys.json").read_text())
        agent = next(p["key"] for p in people if p["role"] == "agent")
        root = f"{server.base}/open311/v2"
        jurisdiction = httpx.get(f"{root}/discovery.json").json()["jurisdiction_id"]
        posted = {}
        with httpx.Client(base_url=root) as http:
            for n in range(POSTED):
                form = {
                    "api_key": agent,
                    "service_code": "urban.road" if n % 2 else "urban.lighting",
                    "address_string": "法库镇东湖公园北门",
                    "address_id": f"ADDR-{n:04d}",
                    "phone": "111-111-1111",  # the open311 client's README example
                }
                if n % 3:  # the npm client's example posts no description
                    form["description"] = f"第{n}号：路面塌陷"
                r = http.post("/requests.json", data=form)
                assert r.status_code == 200, r.text
                posted[r.json()[0]["service_request_id"]] = form

        for fmt in ("json", "xml"):
            client = GeoReport(root, jurisdiction=jurisdiction, output_format=fmt)
            codes = {s["service_code"] for s in client.get_service_list()}
            assert {"urban.road", "urban.lighting"} <= codes
            definition = client.get_service_definition("urban.road")
            assert definition["service_code"] == "urban.road"

            listed = client.get_service_requests()
            assert {r["service_request_id"] for r in listed} == set(posted), fmt
            for found in listed:
                form = posted[found["service_request_id"]]
                assert found["service_code"] == form["service_code"]
                assert found["address_id"] == form["address_id"]
                assert found["description"] == form.get("description", found["service_name"])
                assert "111-111-1111" not in json.dumps(found, ensure_ascii=False)
            some = sorted(posted)[:3]
            assert {
                r["service_request_id"] for r in client.get_service_requests(",".join(some))
            } == set(some)
            one = client.get_service_request(some[0])
            assert one["service_request_id"] == some[0]
            assert one["status"] == "open"
