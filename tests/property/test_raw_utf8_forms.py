"""A form whose text is sent as raw UTF-8 (curl's -d, hand-made Open311 clients) means what the same form
percent-escaped means, as the WHATWG URL standard reads it: found by posting 路口有老人摔倒 with curl -d, which
Starlette read as Latin-1 and refused as "control characters"."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import anyio
import orjson
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from hypothesis import given, settings, strategies as st

from api.http.forms import Utf8Forms
from tests.fixtures.http import api_on
from tests.fixtures.open311 import IN_GRID, V2, drawn, issue_key, reported

FORM = {"content-type": "application/x-www-form-urlencoded"}


def echo() -> TestClient:
    app = FastAPI()

    @app.post("/echo")
    async def form(request: Request) -> dict[str, list[list[str]]]:
        return {"form": [[k, v] for k, v in (await request.form()).multi_items()],
                "query": [[k, v] for k, v in request.query_params.multi_items()]}

    app.add_middleware(Utf8Forms)
    return TestClient(app)


def raw(pairs: list[tuple[str, str]]) -> bytes:
    """The form as a careless client writes it: the form's own marks (& = + % and the like) escaped, every
    character past ASCII left as its raw UTF-8 bytes."""
    def part(text: str) -> str:
        return "".join(c if ord(c) > 127 else quote(c, safe="") for c in text)
    return "&".join(f"{part(k)}={part(v)}" for k, v in pairs).encode("utf-8")


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
forms = st.lists(st.tuples(texts.filter(bool), texts), min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(forms)
def test_a_raw_utf8_form_reads_as_the_same_form_escaped(pairs: list[tuple[str, str]]) -> None:
    client = echo()
    sent_raw = client.post("/echo", content=raw(pairs), headers=FORM).json()["form"]
    sent_escaped = client.post("/echo", content=urlencode(pairs).encode(), headers=FORM).json()["form"]
    assert sent_raw == sent_escaped == [list(pair) for pair in pairs]


@settings(max_examples=100, deadline=None)
@given(forms)
def test_a_raw_utf8_query_reads_as_the_same_query_escaped(pairs: list[tuple[str, str]]) -> None:
    client = echo()
    # Below the HTTP client, as a server behind a lenient proxy may receive it: the raw bytes in the scope.
    app = client.app

    async def call(query: bytes) -> list[list[str]]:
        sent: list[dict[str, object]] = []
        scope = {"type": "http", "method": "POST", "path": "/echo", "raw_path": b"/echo", "query_string": query,
                 "headers": [], "scheme": "http", "server": ("t", 80), "client": ("c", 1), "root_path": "",
                 "http_version": "1.1", "asgi": {"version": "3.0"}}

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return orjson.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))[
            "query"]

    assert anyio.run(call, raw(pairs)) == anyio.run(call, urlencode(pairs).encode()) == [list(p) for p in pairs]


def test_an_open311_report_sent_as_curl_d_sends_it_is_kept_in_its_words(tmp_path: Path) -> None:
    with api_on(tmp_path) as api:
        scene = drawn(api)
        key = issue_key(api.client, scene["admin"], scene["rider_id"])["api_key"]
        body = raw([("api_key", key), ("service_code", "elderly_fall"), ("lat", str(IN_GRID[0])),
                    ("long", str(IN_GRID[1])), ("description", "路口有老人摔倒，需要帮助 & 快来"),
                    ("attribute[conscious]", "yes")])
        clue = reported(api.client.post(f"{V2}/requests.json", content=body, headers=FORM))
        [event] = api.engine.app.events.get(uuid.UUID(clue))
        assert event.text.startswith("路口有老人摔倒，需要帮助 & 快来")
