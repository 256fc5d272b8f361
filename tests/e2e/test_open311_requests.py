"""Open311 service requests through HTTP: the spec's own example answers as the shape of ours (names, order,
types, both formats), a POST placed by its location, refused in the spec's errors where it cannot be placed
or names a photo elsewhere, a photo posted with it served in the key's district only, the status and its
notes following the clue's task, a likely duplicate named, the filters and their defaults, and the
personal fields of a POST kept nowhere."""

from __future__ import annotations

import io
import socket
import uuid
from pathlib import Path
from typing import Any, Iterator

import defusedxml.ElementTree as SafeET
import pytest
from PIL import Image

from api.open311 import requests as open311_requests
from domain.events import Role
from tests.fixtures.http import Api, api_on
from tests.fixtures.live import Followed
from tests.fixtures.open311 import ELSEWHERE, IN_GRID, NEARBY, V2, box, drawn, issue_key, post_request, reported

# The spec's examples (wiki.open311.org/GeoReport_v2, "POST Service Request" and "GET Service Request(s)"),
# as the spec shows them: what ours must look like, field for field.
SPEC_POST_JSON = [{"service_request_id": 293944, "service_notice": "The City will inspect and require the "
                   "responsible party to correct within 24 hours and/or issue a Correction Notice or Notice of "
                   "Violation of the Public Works Code", "account_id": None}]
SPEC_POST_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>293944</service_request_id>
    <service_notice>The City will inspect and require the responsible party to correct within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public Works Code</service_notice>
    <account_id/>
  </request>
</service_requests>"""
SPEC_GET_JSON = [{"service_request_id": 638344, "status": "closed", "status_notes": "Duplicate request.",
                  "service_name": "Sidewalk and Curb Issues", "service_code": "006", "description": None,
                  "agency_responsible": None, "service_notice": None,
                  "requested_datetime": "2010-04-14T06:37:38-08:00", "updated_datetime": "2010-04-14T06:37:38-08:00",
                  "expected_datetime": "2010-04-15T06:37:38-08:00", "address": "8TH AVE and JUDAH ST",
                  "address_id": 545483, "zipcode": 94122, "lat": 37.762221815, "long": -122.4651145,
                  "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"}]
SPEC_GET_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>638344</service_request_id>
    <status>closed</status>
    <status_notes>Duplicate request.</status_notes>
    <service_name>Sidewalk and Curb Issues</service_name>
    <service_code>006</service_code>
    <description></description>
    <agency_responsible></agency_responsible>
    <service_notice></service_notice>
    <requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
    <updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
    <expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
    <address>8TH AVE and JUDAH ST</address>
    <address_id>545483</address_id>
    <zipcode>94122</zipcode>
    <lat>37.762221815</lat>
    <long>-122.4651145</long>
    <media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg</media_url>
  </request>
</service_requests>"""
SPEC_TOKEN_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>638344</service_request_id><token>12345</token></request>
</service_requests>"""
SPEC_ERROR_XML = """<?xml version="1.0" encoding="utf-8"?>
<errors><error><code>403</code><description>Invalid api_key received -- can't proceed with create_request.
</description></error></errors>"""
TEXT = "楼道里电动车在充电"
PERSONAL = {"email": "someone-unique@example.org", "first_name": "Zhixin", "last_name": "Quanmingzi",
            "phone": "13912345678", "device_id": "device-7f3c9a", "account_id": "account-5521"}


@pytest.fixture
def followed(tmp_path: Path) -> Iterator[Api]:
    """The API with its read models following the log by themselves (as served), so a request posted is
    read back at once; catching up is waiting for the follower."""
    with api_on(tmp_path) as api:
        api.engine.follow(interval=0.02)
        api.feed = Followed(api.engine.follower)  # type: ignore[assignment]
        yield api


@pytest.fixture
def keyed(followed: Api) -> dict[str, Any]:
    scene = drawn(followed)
    return scene | {"key": issue_key(followed.client, scene["admin"], scene["rider_id"])["api_key"]}


def shape(value: Any) -> str:
    """A JSON value's kind as the spec's examples have it: an id is a string or a number to a client."""
    return {str: "text", int: "number", float: "number", type(None): "null", bool: "boolean"}[type(value)]


def xml_items(body: bytes | str) -> tuple[str, list[list[tuple[str, str | None]]]]:
    """(root, each item's children as (name, text)), parsed safely (defusedxml)."""
    root = SafeET.fromstring(body)
    return root.tag, [[(child.tag, child.text) for child in item] for item in root]


def get(api: Api, path: str, key: str | None, **params: Any) -> Any:
    return api.client.get(f"{V2}/{path}", params={**({"api_key": key} if key else {}), **params})


def one(api: Api, key: str, request_id: str, **params: Any) -> dict[str, Any]:
    response = get(api, f"requests/{request_id}.json", key, **params)
    assert response.status_code == 200, response.text
    [request] = response.json()
    return request


def spec_error(response: Any, status: int, fmt: str = "json") -> str:
    """The spec's error: its code and a description, in the format asked for."""
    assert response.status_code == status, response.text
    if fmt == "xml":
        root, [[(code, number), (description, text)]] = xml_items(response.content)
        assert (root, code, number, description) == ("errors", "code", str(status), "description") and text
        return str(text)
    [error] = response.json()
    assert list(error) == ["code", "description"] and error["code"] == status and error["description"]
    return str(error["description"])


# --- the spec's examples as the shape of ours ---------------------------------------------------

def test_a_post_answers_as_the_specs_example_in_both_formats(followed: Api, keyed: dict[str, Any]) -> None:
    answer = post_request(followed.client, keyed["key"], "fire_hazard", IN_GRID, TEXT)
    assert answer.status_code == 201 and answer.headers["content-type"] == "application/json; charset=utf-8"
    [ours] = answer.json()
    assert list(ours) == list(SPEC_POST_JSON[0])
    assert uuid.UUID(ours["service_request_id"]) and ours["service_notice"] and ours["account_id"] is None
    assert "柳城-1" in ours["service_notice"]  # placed in its grid, told by name

    answer = post_request(followed.client, keyed["key"], "fire_hazard", ELSEWHERE, TEXT, fmt="xml")
    assert answer.status_code == 201 and answer.headers["content-type"] == "text/xml; charset=utf-8"
    assert answer.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root, [ours_xml] = xml_items(answer.content)
    spec_root, [spec_xml] = xml_items(SPEC_POST_XML)
    assert root == spec_root and [name for name, _ in ours_xml] == [name for name, _ in spec_xml]
    assert ours_xml[2] == ("account_id", None)


def test_a_request_reads_as_the_specs_example_in_both_formats(followed: Api, keyed: dict[str, Any]) -> None:
    clue = reported(post_request(followed.client, keyed["key"], "fire_hazard", IN_GRID, TEXT))
    [ours] = get(followed, f"requests/{clue}.json", keyed["key"]).json()
    assert list(ours) == list(SPEC_GET_JSON[0])
    for field, value in ours.items():  # text or a number, or null; as the spec's where it gives one
        spec = SPEC_GET_JSON[0][field]
        assert value is None or shape(value) in ("text", "number"), field
        if value is not None and spec is not None and field not in ("service_request_id", "address_id", "zipcode"):
            assert shape(value) == shape(spec), field
    assert (ours["lat"], ours["long"]) == IN_GRID and ours["status"] == "open"
    assert ours["requested_datetime"].endswith("+08:00") and ours["updated_datetime"].endswith("+08:00")
    assert ours["service_name"] == "火灾隐患" and ours["service_code"] == "fire_hazard"
    assert ours["agency_responsible"] == "温江 柳城-1网格" and ours["description"].startswith(TEXT)

    xml = get(followed, f"requests/{clue}.xml", keyed["key"])
    assert xml.headers["content-type"] == "text/xml; charset=utf-8"
    root, [item] = xml_items(xml.content)
    spec_root, [spec_item] = xml_items(SPEC_GET_XML)
    assert root == spec_root and [name for name, _ in item] == [name for name, _ in spec_item]
    assert dict(item)["service_request_id"] == clue and dict(item)["expected_datetime"] is None

    listed = get(followed, "requests.xml", keyed["key"])
    assert xml_items(listed.content)[0] == "service_requests"
    english = one(followed, keyed["key"], clue, locale="en")
    assert english["service_name"] == "Fire hazard" and english["agency_responsible"] == "Grid 柳城-1, 温江"


def test_a_token_reads_as_the_specs_example_and_names_its_request(followed: Api, keyed: dict[str, Any]) -> None:
    clue = reported(post_request(followed.client, keyed["key"], "fire_hazard", IN_GRID, TEXT))
    answer = get(followed, f"tokens/{clue}.xml", keyed["key"])
    root, [item] = xml_items(answer.content)
    spec_root, [spec_item] = xml_items(SPEC_TOKEN_XML)
    assert root == spec_root and [name for name, _ in item] == [name for name, _ in spec_item]
    assert item == [("service_request_id", clue), ("token", clue)]
    spec_error(get(followed, f"tokens/{uuid.uuid4()}.json", keyed["key"]), 404)
    spec_error(get(followed, "tokens/12345.xml", keyed["key"]), 404, "xml")


def test_errors_are_the_specs_in_both_formats(followed: Api, keyed: dict[str, Any]) -> None:
    spec_root, [spec_item] = xml_items(SPEC_ERROR_XML)
    bad_key = post_request(followed.client, "g311_nothing", "fire_hazard", IN_GRID, TEXT, fmt="xml")
    root, [item] = xml_items(bad_key.content)
    assert bad_key.status_code == 403 and root == spec_root and [n for n, _ in item] == [n for n, _ in spec_item]
    spec_error(get(followed, "requests.json", None), 403)
    spec_error(post_request(followed.client, keyed["key"], "no_such_service", IN_GRID, TEXT), 400)
    spec_error(get(followed, f"requests/{uuid.uuid4()}.xml", keyed["key"]), 404, "xml")


# --- POST ---------------------------------------------------------------------------------------

def test_a_post_is_placed_in_its_grid_by_its_location_and_read_back_at_once(followed: Api,
                                                                            keyed: dict[str, Any]) -> None:
    clue = reported(post_request(followed.client, keyed["key"], "elderly_fall", IN_GRID, "老人在路口摔倒",
                                 **{"attribute[conscious]": "yes"}))
    # No catching up by hand: the GET waits (bounded) for the read models to have what was just posted.
    answer = followed.client.get(f"{V2}/requests/{clue}.json", params={"api_key": keyed["key"]})
    assert answer.status_code == 200, answer.text
    [request] = answer.json()
    [event] = followed.engine.app.events.get(uuid.UUID(clue))
    assert str(event.grid_id) == keyed["grid"] and str(event.reporter_id) == keyed["rider_id"]
    assert event.text.startswith("老人在路口摔倒") and "conscious" not in event.text and "yes" not in event.text
    assert request["description"] == event.text


def test_a_post_goes_through_the_writer_of_v1s_commands(followed: Api, keyed: dict[str, Any]) -> None:
    """Coalesced with /v1's commands (application/coalescer.py): one writer, so reports from Open311
    clients and riders' phones arriving together share a transaction."""
    writer = followed.client.app.state.writer
    before = writer.batched
    reported(post_request(followed.client, keyed["key"], "fire_hazard", IN_GRID, "楼道堆放杂物"))
    assert writer.batched == before + 1


def test_a_post_by_address_alone_cannot_be_placed(followed: Api, keyed: dict[str, Any]) -> None:
    form = {"api_key": keyed["key"], "service_code": "fire_hazard", "description": TEXT,
            "address_string": "柳城街道 光华社区 12 号"}
    for fmt in ("json", "xml"):
        refused = followed.client.post(f"{V2}/requests.{fmt}", data=form)
        assert "lat" in spec_error(refused, 400, fmt) and "long" in spec_error(refused, 400, fmt)
    refused = followed.client.post(f"{V2}/requests.json", data={**form, "address_id": "545483", "locale": "en"})
    assert "cannot be placed" in spec_error(refused, 400)
    assert clues_in_log(followed) == 0


def clues_in_log(api: Api) -> int:
    from domain.clues import ClueReported
    from domain.events import topics_of
    return len(api.engine.app.eventlog.page(0, 10_000, topics_of([ClueReported])))


@pytest.mark.parametrize("media_url", [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/x.jpg",
    "http://127.0.0.1:8000/internal.jpg",
    "https://elsewhere.example.com/open311/v2/media/" + "a" * 64 + ".jpg",  # our path, another's host
    "file:///etc/passwd",
])
def test_a_media_url_elsewhere_is_refused_and_nothing_is_fetched(followed: Api, keyed: dict[str, Any],
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  media_url: str) -> None:
    dialled: list[Any] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        dialled.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    refused = post_request(followed.client, keyed["key"], "fire_hazard", IN_GRID, TEXT, media_url=media_url)
    assert "media_url" in spec_error(refused, 400)
    assert dialled == [] and clues_in_log(followed) == 0


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 60, 30)).save(out, "JPEG")
    return out.getvalue()


def test_a_photo_posted_with_a_request_is_kept_and_served_in_the_keys_district_only(followed: Api,
                                                                                    keyed: dict[str, Any]) -> None:
    form = {"api_key": keyed["key"], "service_code": "fire_hazard", "lat": str(IN_GRID[0]),
            "long": str(IN_GRID[1]), "description": TEXT}
    answer = followed.client.post(f"{V2}/requests.json", data=form, files={"media": ("a.jpg", jpeg(), "image/jpeg")})
    clue = reported(answer)
    request = one(followed, keyed["key"], clue)
    assert request["media_url"].startswith("http://testserver/open311/v2/media/")
    sha256 = request["media_url"].rsplit("/", 1)[1].removesuffix(".jpg")
    shown = followed.client.get(request["media_url"], params={"api_key": keyed["key"]})
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["x-content-type-options"] == "nosniff" and shown.content.startswith(b"\xff\xd8")
    # The photo is the rider's upload: the same one given again by its address or its hash is taken.
    again = post_request(followed.client, keyed["key"], "fire_hazard", ELSEWHERE, TEXT, media_url=sha256)
    assert one(followed, keyed["key"], reported(again))["media_url"] == request["media_url"]
    by_address = post_request(followed.client, keyed["key"], "fire_hazard", ELSEWHERE, TEXT,
                              media_url=f"http://testserver/v1/photos/{sha256}")
    assert one(followed, keyed["key"], reported(by_address))["media_url"] == request["media_url"]

    elsewhere = jinjiang_key(followed)
    spec_error(followed.client.get(request["media_url"], params={"api_key": elsewhere}), 404)
    spec_error(get(followed, f"requests/{clue}.json", elsewhere), 404)
    spec_error(followed.client.get(request["media_url"]), 403)
    not_a_photo = followed.client.post(f"{V2}/requests.json", data=form,
                                       files={"media": ("a.jpg", b"<html>hello</html>", "image/jpeg")})
    spec_error(not_a_photo, 400)


def jinjiang_key(api: Api) -> str:
    """A service key of 锦江 (another district): it reads there, never here."""
    admin = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    api.command("set-district-boundary", {"district": "锦江", "boundary": box(104.05, 30.63, 104.10, 30.68)}, admin)
    return str(issue_key(api.client, admin, None, "锦江的办事系统", "锦江")["api_key"])


def test_personal_fields_posted_are_kept_nowhere(followed: Api, keyed: dict[str, Any], tmp_path: Path) -> None:
    clue = reported(post_request(followed.client, keyed["key"], "fire_hazard", IN_GRID, TEXT, **PERSONAL))
    request = one(followed, keyed["key"], clue)
    followed.feed.catch_up()
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    assert b"13800000000" not in repr(request).encode()  # not even the rider's own (sealed) phone
    for value in PERSONAL.values():
        assert value.encode() not in stored and value not in repr(request), value
    assert keyed["rider_id"] not in repr(request) and "张三" not in repr(request)


# --- status follows the task --------------------------------------------------------------------

def test_status_follows_the_task_to_closed_with_notes_in_words(followed: Api, keyed: dict[str, Any]) -> None:
    clue = reported(post_request(followed.client, keyed["key"], "fire_hazard", IN_GRID, TEXT))
    seen = [one(followed, keyed["key"], clue)]
    officer, rider, rider_id = keyed["officer"], keyed["rider"], keyed["rider_id"]
    task = followed.command("accept-clue", {"clue_id": clue, "kind": "fire-lane", "rate_code": "fire-lane",
                                            "due": "2026-11-03T18:00:00+08:00"}, officer)["result"]["task_id"]
    followed.feed.catch_up()
    seen.append(one(followed, keyed["key"], clue))
    followed.command("claim-task", {"task_id": task, "rider_id": rider_id}, rider)
    followed.feed.catch_up()
    seen.append(one(followed, keyed["key"], clue))
    followed.command("complete-task", {"task_id": task, "rider_id": rider_id, "note": "已挪走"}, rider)
    followed.feed.catch_up()
    seen.append(one(followed, keyed["key"], clue))
    followed.command("verify-completion", {"task_id": task}, officer)
    followed.feed.catch_up()
    seen.append(one(followed, keyed["key"], clue))

    assert [r["status"] for r in seen] == ["open", "open", "open", "open", "closed"]
    notes = [r["status_notes"] for r in seen]
    assert "等待网格员受理" in notes[0] and "柳城-1" in notes[1] and "认领" in notes[2]
    assert "核验" in notes[3] and notes[4].startswith("已办结")
    assert len(set(notes)) == 5
    for note in notes:
        assert task not in note and clue not in note and "fire-lane" not in note and "800" not in note
    assert seen[0]["expected_datetime"] is None and seen[1]["expected_datetime"] == "2026-11-03T18:00:00+08:00"
    assert seen[4]["updated_datetime"] > seen[0]["updated_datetime"]
    english = one(followed, keyed["key"], clue, locale="en")
    assert english["status_notes"] == "Closed: the officers of grid 柳城-1 checked the work."


def test_a_near_duplicate_is_named_on_report_and_after_it_is_marked(followed: Api, keyed: dict[str, Any]) -> None:
    first = reported(post_request(followed.client, keyed["key"], "fire_hazard", IN_GRID, TEXT))
    followed.feed.catch_up()
    repeat = reported(post_request(followed.client, keyed["key"], "fire_hazard", NEARBY, "同一处又在充电"))
    likely = one(followed, keyed["key"], repeat)
    assert likely["status"] == "open" and first in likely["status_notes"] and "可能" in likely["status_notes"]
    assert "火灾隐患" in likely["status_notes"] and "11月2日" in likely["status_notes"]
    followed.command("mark-duplicate", {"clue_id": repeat, "of_clue_id": first}, keyed["officer"])
    followed.feed.catch_up()
    marked = one(followed, keyed["key"], repeat)
    assert marked["status"] == "closed" and first in marked["status_notes"] and "重复" in marked["status_notes"]
    assert one(followed, keyed["key"], first)["status"] == "open"


# --- GET requests: filters and defaults -------------------------------------------------------

def listed(api: Api, key: str, **params: Any) -> list[str]:
    response = get(api, "requests.json", key, **params)
    assert response.status_code == 200, response.text
    return [request["service_request_id"] for request in response.json()]


def test_the_list_filters_and_its_defaults(followed: Api, keyed: dict[str, Any],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    key = keyed["key"]
    old = reported(post_request(followed.client, key, "fire_hazard", IN_GRID, TEXT))
    followed.clock.advance(91 * 86400)  # 91 days on: the first is out of the default window
    fire = reported(post_request(followed.client, key, "fire_hazard", ELSEWHERE, TEXT))
    followed.clock.advance(60)
    food = reported(post_request(followed.client, key, "unsafe_food", IN_GRID, "后厨老鼠"))
    followed.clock.advance(60)
    followed.command("reject-clue", {"clue_id": food, "reason": "不在本网格的职责内"}, keyed["officer"])
    followed.feed.catch_up()

    assert listed(followed, key) == [food, fire]  # newest first, the last 90 days
    assert listed(followed, key, service_code="unsafe_food,fire_hazard") == [food, fire]
    assert listed(followed, key, service_code="unsafe_food") == [food]
    assert listed(followed, key, status="closed") == [food]
    assert listed(followed, key, status="open") == [fire]
    assert listed(followed, key, status="open,closed") == [food, fire]
    # By id, the other filters do not apply, and an id of another district or none at all is not there.
    assert listed(followed, key, service_request_id=f"{old},{food},{uuid.uuid4()},x",
                  status="open", service_code="robbery") == [food, old]
    assert listed(followed, key, start_date="2026-11-01T00:00:00+08:00", end_date="2026-11-03") == [old]
    assert listed(followed, key, start_date="2026-11-01T00:00:00+08:00") == [old]
    spec_error(get(followed, "requests.json", key, start_date="2026-01-01T00:00:00Z",
                   end_date="2026-06-01T00:00:00Z"), 400)
    spec_error(get(followed, "requests.json", key, start_date="2026-06-01T00:00:00Z",
                   end_date="2026-01-01T00:00:00Z"), 400)
    spec_error(get(followed, "requests.json", key, start_date="yesterday"), 400)
    spec_error(get(followed, "requests.json", key, status="pending"), 400)
    spec_error(get(followed, "requests.json", key, service_code="no_such"), 400)
    assert listed(followed, jinjiang_key(followed)) == []  # another district's key reads none of these
    rejected = one(followed, key, food)
    assert rejected["status_notes"] == "未受理：不在本网格的职责内"

    monkeypatch.setattr(open311_requests, "MAX_RESULTS", 1)  # at most so many, the newest
    assert listed(followed, key) == [food]


@pytest.mark.parametrize("text", ["0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                                  "1999-12-31", "2101-01-01", "2026-11-05T10:00:00+14:01", "２０２６-11-05",
                                  "2026-11-05T10:00:00", "2023-02-29", "1700000000"])
def test_a_date_outside_the_window_or_not_a_w3c_datetime_is_refused_in_words(followed: Api, keyed: dict[str, Any],
                                                                              text: str) -> None:
    for name in ("start_date", "end_date"):
        refused = get(followed, "requests.json", keyed["key"], **{name: text})
        assert name in spec_error(refused, 400)


def test_a_key_reports_only_inside_its_own_district(followed: Api, keyed: dict[str, Any]) -> None:
    """The rider has a grid in 锦江 too: its 温江 key still reports nothing there (as /v1 would let the rider)."""
    admin = followed.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    followed.command("set-district-boundary", {"district": "锦江", "boundary": box(104.05, 30.63, 104.10, 30.68)},
                     admin)
    grid = followed.command("register-grid", {"district": "锦江", "street": "春熙路街道", "community": "和平社区",
                                              "name": "春熙-1", "boundary": box(104.05, 30.63, 104.10, 30.68)},
                            admin)["result"]["grid_id"]
    followed.command("join-grid", {"rider_id": keyed["rider_id"], "grid_id": grid}, keyed["rider"])
    refused = post_request(followed.client, keyed["key"], "fire_hazard", (30.65, 104.07), TEXT, locale="en")
    assert "锦江" in spec_error(refused, 403) and clues_in_log(followed) == 0


def test_a_request_the_read_models_never_reach_is_a_503_after_a_bounded_wait(api: Api,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """No follower here: what was posted stays out of the read models, and the GET says so rather than 404."""
    scene = drawn(api)
    key = issue_key(api.client, scene["admin"], scene["rider_id"])["api_key"]
    clue = reported(post_request(api.client, key, "fire_hazard", IN_GRID, TEXT))
    monkeypatch.setattr(open311_requests, "READABLE_WAIT_S", 0.3)
    spec_error(get(api, f"requests/{clue}.json", key), 503)
    spec_error(get(api, f"requests/{uuid.uuid4()}.json", key), 404)  # not in the log: no wait
    api.feed.catch_up()
    assert one(api, key, clue)["service_request_id"] == clue


def test_a_request_posted_is_in_the_list_at_once(followed: Api, keyed: dict[str, Any]) -> None:
    """Not only by its id: the POST answers once the read models have its clue (bounded), so any read after it
    sees it — as civicbot found, a list by service_request_id right after the POST was empty most times."""
    for i in range(5):
        clue = reported(post_request(followed.client, keyed["key"], "robbery", (IN_GRID[0], IN_GRID[1] + 0.004 * i),
                                     f"有人抢手机，第{i}起"))
        assert listed(followed, keyed["key"], service_request_id=clue) == [clue], i
        assert clue in listed(followed, keyed["key"], service_code="robbery"), i
