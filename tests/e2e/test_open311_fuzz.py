"""Fuzzing every Open311 route, in both formats, with a valid key: schemathesis over the routes the OpenAPI
document gives under /open311, and hypothesis posting any form a client might send to POST requests. No
answer is a 5xx, and every error under /open311 is the spec's list of errors in the format the path asked
for (`[{"code", "description"}]` / `<errors><error>…`), its code the HTTP status — never problem+json."""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from uuid import UUID, uuid4

import defusedxml.ElementTree as SafeET
import orjson
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings, strategies as st

from api.http.app import app_of
from api.open311.wire import language_from
from domain import commands as c
from domain.clock import ManualClock
from domain.clues import Category
from domain.events import Actor, Role
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.open311 import GRID, IN_GRID, WENJIANG, box
from tests.fixtures.world import START

SECRET = "open311-fuzz-secret-of-at-least-32-bytes"
_folder = Path(tempfile.mkdtemp(prefix="gridgov-open311-fuzz-"))
_engine = bootstrap.bootstrap(load_settings({
    "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(_folder / "events.sqlite"),
    "READMODEL_SQLITE_DBNAME": str(_folder / "readmodels.sqlite"), "GRIDGOV_BLOBS_DIR": str(_folder / "photos")}),
    clock=ManualClock(START))
APP = app_of(_engine.follow(interval=0.02), SECRET)
CJK = re.compile("[\u4e00-\u9fff]")
ROOTS = {"discovery", "services", "service_definition", "service_requests", "errors"}


def _scene() -> dict[str, str]:
    """温江 drawn with one grid, a rider of it with a key, a service key, and a clue accepted into a task."""
    app = _engine.app
    admin = Actor(id="admin-温江", role=Role.DISTRICT_ADMIN)
    grid = app.execute(c.RegisterGrid(district="温江", street="柳城街道", community="光华社区", name="柳城-1"),
                       admin).result["grid_id"]
    app.execute(c.SetDistrictBoundary(district="温江", boundary=box(*WENJIANG)), admin)
    app.execute(c.SetGridBoundary(grid_id=grid, boundary=box(*GRID)), admin)
    app.execute(c.IssueRateSchedule(district="温江", effective_from="2026-11-01T00:00:00+08:00",
                                    rates={"fire-lane": {"fen": 800, "points": 8}}, cap_day_fen=5000,
                                    cap_month_fen=50000), admin)
    rider_id = str(uuid4())
    rider = Actor(id=rider_id, role=Role.RIDER)
    app.execute(c.RegisterRider(rider_id=rider_id, platform="meituan", station="温江站", name="张三",
                                phone="13800000000"), rider)
    app.execute(c.JoinGrid(rider_id=rider_id, grid_id=grid), rider)
    keys = {"rider": f"g311_fuzz-rider-{uuid4().hex}", "service": f"g311_fuzz-service-{uuid4().hex}"}
    for who, key in keys.items():
        app.execute(c.IssueOpen311Key(key_sha256=hashlib.sha256(key.encode()).hexdigest(), district="温江",
                                      rider_id=rider_id if who == "rider" else None, label=f"fuzz {who}"), admin)
    clue = app.execute(c.ReportClue(rider_id=UUID(rider_id), category=Category.FIRE_HAZARD, text="楼道堆满纸箱",
                                    location={"lat": IN_GRID[0], "lon": IN_GRID[1]}), rider).result["clue_id"]
    app.execute(c.AcceptClue(clue_id=clue, kind="fire-lane", rate_code="fire-lane"), admin)
    return keys | {"clue": clue}


SCENE = _scene()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(path_regex="^/open311/")


def spec_shaped(response: Any, fmt: str, language: str) -> None:
    """The answer is in the format asked for; an error is the spec's list of one error."""
    status = response.status_code
    assert status < 500, f"{status} {response.text[:500]}"
    media = response.headers.get("content-type", "")
    media = media[0] if isinstance(media, list) else media  # schemathesis keeps each header's values in a list
    if fmt == "json" or status >= 400:
        assert not media.startswith("application/problem+json"), response.text[:300]
    if media.startswith("image/"):
        return  # a photo (GET media/<sha256>.jpg)
    assert media == {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}[fmt], \
        f"{status} {media}: {response.text[:300]}"
    if fmt == "json":
        body = orjson.loads(response.content)
        if status >= 400:
            assert isinstance(body, list) and len(body) == 1, body
            [error] = body
            assert list(error) == ["code", "description"] and error["code"] == status, body
            description = error["description"]
        else:
            assert isinstance(body, (list, dict)), body
            return
    else:
        assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), response.content[:100]
        root = SafeET.fromstring(response.content)
        assert root.tag in ROOTS, root.tag
        if status < 400:
            return
        assert root.tag == "errors" and [e.tag for e in root] == ["error"], response.text[:300]
        assert [f.tag for f in root[0]] == ["code", "description"], response.text[:300]
        assert root[0].findtext("code") == str(status)
        description = root[0].findtext("description") or ""
    assert description.strip(), response.text[:300]
    if language == "zh":
        assert CJK.search(description), f"not in Chinese: {status} {description!r}"


def keyed(case: Any, fmt: str) -> None:
    """The format in the path, and the rider's key where the route takes one (the query, or the form)."""
    case.path_parameters = {**(case.path_parameters or {}), "fmt": fmt}
    if case.method.upper() == "GET":
        case.query = {**(case.query or {}), "api_key": SCENE["rider"]}
    elif isinstance(case.body, dict):
        case.body = {**case.body, "api_key": SCENE["rider"]}


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.filterwarnings("ignore")
def test_no_open311_route_answers_5xx_and_every_error_is_the_specs(case) -> None:  # type: ignore[no-untyped-def]
    for i, fmt in enumerate(("json", "xml")):
        if "{fmt}" in case.path:
            keyed(case, fmt)
        header = ("zh", "en")[i]
        response = case.call(headers={"Accept-Language": header})
        # A generated `locale` may name a language too (it wins over the header, as the wire says).
        locale = (case.query or {}).get("locale")
        locale = locale[-1] if isinstance(locale, list) and locale else locale  # the last, as the app reads it
        language = language_from(None if locale in (None, []) else str(locale), header)
        spec_shaped(response, fmt if "{fmt}" in case.path else "json", language)
        if fmt == "json" and response.status_code < 300:  # the OpenAPI document describes the JSON answers
            case.validate_response(response, checks=[schemathesis.checks.response_schema_conformance])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_parameter_refused_by_its_declaration_is_described_in_the_language_asked(fmt: str) -> None:
    """Found by the fuzz: FastAPI's own refusal of a declared parameter (a jurisdiction_id over 100 characters)
    came out as pydantic's English to a client that asked for Chinese (the problem's Chinese title was dropped
    on the way into the spec's description)."""
    for language, words in (("zh", CJK), ("en", re.compile("[A-Za-z]"))):
        response = CLIENT.get(f"/open311/v2/services.{fmt}", params={"jurisdiction_id": "x" * 101},
                              headers={"Accept-Language": language})
        assert response.status_code == 400
        spec_shaped(response, fmt, language)
        assert words.search(response.text.split("description")[1]), response.text


@pytest.mark.parametrize("too_many", ["fields", "files"])
def test_a_form_past_its_limits_is_told_which_limit_in_chinese_too(too_many: str) -> None:
    """Found from outside: a form of 300 fields, or two photos, was told exactly what was wrong in English
    ("Too many fields. Maximum number of fields is 200.") but only "请求无法处理。" in Chinese."""
    form = [("api_key", SCENE["rider"]), ("service_code", "fire_hazard"), ("lat", str(IN_GRID[0])),
            ("long", str(IN_GRID[1])), ("description", "楼道堆满纸箱")]
    said = {}
    for language in ("zh", "en"):
        if too_many == "fields":
            response = CLIENT.post("/open311/v2/requests.json", content=urlencode(form + [("attribute[floor]", "3")] * 300),
                                   headers={"Accept-Language": language,
                                            "Content-Type": "application/x-www-form-urlencoded"})
        else:
            response = CLIENT.post("/open311/v2/requests.json", data=dict(form), headers={"Accept-Language": language},
                                   files=[("media", ("a.jpg", b"a")), ("media", ("b.jpg", b"b"))])
        spec_shaped(response, "json", language)
        said[language] = response.json()[0]["description"]
    limit = {"fields": "200", "files": "1"}[too_many]
    assert limit in said["en"] and limit in said["zh"], said


def test_the_open311_routes_are_fuzzed() -> None:
    """The fuzz above reaches every Open311 route a client uses (the document names them all)."""
    paths = set(APP.openapi()["paths"])
    for route in ("/open311/v2/discovery.{fmt}", "/open311/v2/services.{fmt}", "/open311/v2/services/{code}.{fmt}",
                  "/open311/v2/requests.{fmt}", "/open311/v2/requests/{service_request_id}.{fmt}",
                  "/open311/v2/tokens/{token}.{fmt}"):
        assert route in paths, sorted(p for p in paths if p.startswith("/open311"))


# --- POST requests: any form a client might send ---------------------------------------------------

FIELDS = ["api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
          "description", "media_url", "email", "first_name", "last_name", "phone", "device_id", "account_id",
          "locale", "attribute[conscious]", "attribute[floor]", "attribute[shop_name]", "attribute[conscious][]",
          "attribute[nothing]", "attribute[]", "attribute"]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
VALUE = st.one_of(
    TEXT, st.sampled_from([c.value for c in Category]), st.sampled_from(["yes", "no", "unknown", "", " "]),
    st.sampled_from(["en", "en-US", "zh-CN", "zh_TW", "fr", "en;q=0.1, zh"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str), st.sampled_from([str(IN_GRID[0]), str(IN_GRID[1])]),
    st.sampled_from(["1e309", "-0", "30.68abc", "NaN", "Infinity", "0x1F", "٣٠٫٦٨", "30,68"]),
    st.sampled_from([SCENE["rider"], SCENE["service"], "g311_" + "x" * 43, "x" * 5000]),
    st.sampled_from(["https://example.com/a.jpg", "http://127.0.0.1/v1/photos/" + "0" * 64, "0" * 64,
                     "/open311/v2/media/" + "a" * 64 + ".jpg", "file:///etc/passwd"]))
FORMS = st.lists(st.tuples(st.sampled_from(FIELDS) | TEXT, VALUE), max_size=12)
CLIENT = TestClient(APP, raise_server_exceptions=False)


@given(form=FORMS, fmt=st.sampled_from(["json", "xml"]), language=st.sampled_from(["zh", "en"]),
       key=st.sampled_from(["rider", "service", None]), where=st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_form_posted_is_a_request_or_the_specs_error(form: list[tuple[str, str]], fmt: str, language: str,
                                                         key: str | None, where: bool) -> None:
    sent = list(form)
    if key:
        sent.insert(0, ("api_key", SCENE[key]))
    if where:  # often a well-placed report, so the fuzz gets past the key and the place to the words
        sent[:0] = [("service_code", "fire_hazard"), ("lat", str(IN_GRID[0])), ("long", str(IN_GRID[1])),
                    ("description", "楼道堆满纸箱")]
    response = CLIENT.post(f"/open311/v2/requests.{fmt}", content=urlencode(sent),
                           headers={"Accept-Language": language,
                                    "Content-Type": "application/x-www-form-urlencoded"})
    locales = [value for name, value in sent if name == "locale"]  # the form's last, as the wire reads it
    spec_shaped(response, fmt, language_from(locales[-1] if locales else None, language))
    if response.status_code < 300 and fmt == "json":
        [answer] = response.json()
        assert UUID(answer["service_request_id"])
        assert key == "rider", "only a rider's key reports"


@given(text=st.text(min_size=1, max_size=40))
@example(text="第一行\r\n第二行")  # a web form's textarea sends its line breaks as CRLF
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_request_read_back_says_the_same_in_json_and_xml(text: str) -> None:
    """Found from outside: a description holding a carriage return was written raw into the XML, which every
    XML parser reads as a line feed, so the two formats told a client different texts."""
    form = [("api_key", SCENE["rider"]), ("service_code", "other"), ("lat", str(IN_GRID[0])),
            ("long", str(IN_GRID[1])), ("description", text)]
    posted = CLIENT.post("/open311/v2/requests.json", content=urlencode(form),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    if posted.status_code != 201:
        return  # refused in words (nothing visible to report): the form fuzz checks those
    clue = posted.json()[0]["service_request_id"]
    read = {fmt: CLIENT.get(f"/open311/v2/requests/{clue}.{fmt}", params={"api_key": SCENE["service"]})
            for fmt in ("json", "xml")}
    as_json = read["json"].json()[0]
    as_xml = {field.tag: field.text for field in SafeET.fromstring(read["xml"].content)[0]}
    assert as_xml["description"] == as_json["description"], (text, as_json["description"], as_xml["description"])


def _image(kind: str, size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", size, colour).save(out, format=kind)
    return out.getvalue()


MEDIA = st.one_of(
    st.binary(max_size=2048),
    st.builds(_image, st.sampled_from(["JPEG", "PNG", "WEBP", "GIF", "BMP"]),
              st.tuples(st.integers(1, 64), st.integers(1, 64)), st.tuples(*[st.integers(0, 255)] * 3)),
    st.builds(lambda image, tail: image + tail, st.builds(_image, st.just("JPEG"), st.just((8, 8)),
                                                         st.just((9, 9, 9))), st.binary(min_size=1, max_size=64)))


shown: list[str] = []  # the photos served, so a test sees the fuzz reached them


@given(media=MEDIA, fmt=st.sampled_from(["json", "xml"]), name=st.sampled_from(["media", "media_url", "photo"]))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_photo_posted_is_kept_clean_and_served_to_its_district_or_refused(media: bytes, fmt: str,
                                                                              name: str) -> None:
    """A `media` file goes through the photos' one way in: a 2xx request whose media_url serves a clean JPEG
    to a key of the district, or the spec's error — never a 5xx, never a file kept as sent."""
    form = {"api_key": SCENE["rider"], "service_code": "fire_hazard", "lat": str(IN_GRID[0]),
            "long": str(IN_GRID[1]), "description": "楼道堆满纸箱"}
    response = CLIENT.post(f"/open311/v2/requests.{fmt}", data=form, files={name: ("photo.jpg", media)})
    spec_shaped(response, fmt, "zh")
    if response.status_code >= 300 or fmt == "xml":
        return
    [answer] = response.json()
    request = CLIENT.get(f"/open311/v2/requests/{answer['service_request_id']}.json",
                         params={"api_key": SCENE["service"]})
    assert request.status_code == 200, request.text
    url = request.json()[0]["media_url"]
    if name != "media":
        assert url is None  # a field of another name is not a photo
        return
    assert url and url.endswith(".jpg"), request.text
    served = CLIENT.get(urlsplit(url).path, params={"api_key": SCENE["service"]})
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg", served.text[:200]
    assert served.content.startswith(b"\xff\xd8") and served.content.endswith(b"\xff\xd9")  # a tail dropped
    shown.append(url)


def test_the_photo_fuzz_reached_photos_served() -> None:
    if not shown:
        test_any_photo_posted_is_kept_clean_and_served_to_its_district_or_refused()
    assert shown
