"""Open311 clients that exist already, from PyPI and used unchanged, against a live server: georeport 0.3.1
lists the services and reads a definition in JSON and in XML; civicbot 0.4.0 lists the services, posts a
request with a rider's key (checked first against the live definition) and reads it back at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from civicbot import Endpoint, HttpError, HttpTransport, Open311Client
from civicbot.http import RateLimiter
from georeport import GeoReport

from domain.clues import CATEGORY_WORDS, Category
from tests.fixtures.live import serving
from tests.fixtures.open311 import IN_GRID, V2, drawn, issue_key


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One server for the module (the clients only read and add): its base URL, 温江 drawn, a rider's key."""
    with serving(Path(tmp_path_factory.mktemp("open311-clients"))) as (base, api, _):
        scene = drawn(api)
        key = issue_key(api.client, scene["admin"], scene["rider_id"])
        yield scene | {"base": base, "api_key": key["api_key"]}


def listed(value: Any) -> list[Any]:
    """xmltodict gives one child element as itself, several as a list."""
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_lists_the_services_and_reads_a_definition(live: dict[str, Any], fmt: str) -> None:
    client = GeoReport(live["base"] + V2, jurisdiction="温江", output_format=fmt)
    services = client.get_service_list()
    assert [s["service_code"] for s in services] == [c.value for c in Category]
    assert [s["service_name"] for s in services] == [CATEGORY_WORDS[c][0] for c in Category]  # Chinese first
    by_code = {s["service_code"]: s for s in services}
    assert {s["type"] for s in services} == {"realtime"}
    metadata = by_code["elderly_fall"]["metadata"]
    assert metadata in (True, "true"), metadata  # XML's text, JSON's boolean
    assert all(s["group"] and s["keywords"] for s in services)

    definition = client.get_service_definition("elderly_fall")
    assert definition["service_code"] == "elderly_fall"
    attributes = definition["attributes"] if fmt == "json" else listed(definition["attributes"]["attribute"])
    conscious = next(a for a in attributes if a["code"] == "conscious")
    assert conscious["datatype"] == "singlevaluelist" and conscious["required"] in (True, "true")
    values = conscious["values"] if fmt == "json" else listed(conscious["values"]["value"])
    assert [v["key"] for v in values] == ["yes", "no", "unknown"]
    assert all(v["name"] for v in values)


class KeyedTransport(HttpTransport):
    """civicbot's reads send no api_key (most cities let anyone read requests); here a request is read only
    with a key of its district, so the key goes into each read's query through the transport object civicbot
    takes from its caller. The client itself is unchanged. No pause between calls (civicbot waits 0.5 s per
    host by default, a politeness to public servers)."""

    def __init__(self, api_key: str | None = None) -> None:
        super().__init__(rate_limiter=RateLimiter(min_interval=0))
        self.api_key = api_key

    def get_bytes(self, url: str, params: Any = None, headers: Any = None) -> bytes:
        keyed = {**(params or {}), **({"api_key": self.api_key} if self.api_key else {})}
        return super().get_bytes(url, keyed, headers)


def civicbot(live: dict[str, Any], api_key: str | None = None) -> Open311Client:
    endpoint = Endpoint(id="gridgov-wenjiang", name="温江网格", base_url=live["base"] + V2, write=True)
    return Open311Client(endpoint, KeyedTransport(api_key), jurisdiction_id="温江")


def test_civicbot_lists_services_posts_a_request_and_reads_it_back(live: dict[str, Any]) -> None:
    services = civicbot(live).list_services()  # no key: the services are public
    assert {s["service_code"] for s in services} == {c.value for c in Category}

    # validate_remote: civicbot checks the form against the live definition before it sends.
    sent = civicbot(live).create_request(
        "elderly_fall", dry_run=False, confirm="SEND", api_key=live["api_key"], validate_remote=True,
        lat=IN_GRID[0], lng=IN_GRID[1], description="小区门口有位老人摔倒了", attributes={"conscious": "yes"},
        first_name="张", phone="13800000000")  # taken, never kept
    [answer] = sent.response
    request_id = answer["service_request_id"]
    assert answer["service_notice"]

    reader = civicbot(live, live["api_key"])
    request = reader.get_request(request_id)  # at once: the read waits for the POST's position
    assert request is not None and request["service_request_id"] == request_id
    assert request["status"] == "open" and request["service_code"] == "elderly_fall"
    assert request["description"].startswith("小区门口有位老人摔倒了")
    assert "是" in request["description"] and "yes" not in request["description"]  # the answer in words
    assert (float(request["lat"]), float(request["long"])) == pytest.approx(IN_GRID)
    assert "13800000000" not in repr(request) and "张" not in repr(request)
    assert [r["service_request_id"] for r in reader.list_requests(service_request_ids=[request_id])] == [request_id]
    assert request_id in [r["service_request_id"] for r in reader.list_requests(service_code="elderly_fall")]
    # Placed at once, the request's id is also its token (docs/open311.md) for a client that asks.
    assert reader.get_token(request_id) == [{"service_request_id": request_id, "token": request_id}]


def test_civicbot_lists_a_request_by_its_id_right_after_posting_it(live: dict[str, Any]) -> None:
    """Found from outside: requests/{id} waited for the POST's clue, but the list by service_request_id (the
    spec's lookup by ids, which overrides every other filter) answered [] some 9 times in 10 right after it."""
    poster, reader = civicbot(live), civicbot(live, live["api_key"])
    for i in range(5):
        sent = poster.create_request("robbery", dry_run=False, confirm="SEND", api_key=live["api_key"],
                                     lat=IN_GRID[0] + 0.005, lng=IN_GRID[1] + 0.004 * i,
                                     description=f"有人抢手机，第{i}起")
        [answer] = sent.response
        request_id = answer["service_request_id"]
        listed = reader.list_requests(service_request_ids=[request_id])
        assert [r["service_request_id"] for r in listed] == [request_id], f"round {i}: {listed}"
        assert request_id in [r["service_request_id"] for r in reader.list_requests(service_code="robbery")]


def test_civicbot_hears_the_specs_errors(live: dict[str, Any]) -> None:
    with pytest.raises(HttpError) as refused:
        civicbot(live).get_request("00000000-0000-4000-8000-000000000000")  # no key
    assert refused.value.status == 403
    assert [e["code"] for e in json.loads(refused.value.body)] == [403]
    with pytest.raises(HttpError) as missing:
        civicbot(live, live["api_key"]).get_request("00000000-0000-4000-8000-000000000000")
    assert missing.value.status == 404
    [error] = json.loads(missing.value.body)
    assert error["code"] == 404 and error["description"]
