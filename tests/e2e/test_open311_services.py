"""Open311 GeoReport v2's discovery, service list and service definitions, held to the specification's own
examples (wiki.open311.org/GeoReport_v2 and /Service_Discovery): the same fields in the same order with the
same types, in JSON and in XML (read back with defusedxml), errors as the spec's list of {code, description}
in the path's format, and the words in Chinese unless English is asked for."""

from __future__ import annotations

import logging
import re
import string
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from defusedxml import ElementTree as SafeET
from hypothesis import HealthCheck, given, settings, strategies as st

from api.open311 import catalogue
from domain.clues import CATEGORY_WORDS, Category
from domain.events import Role
from tests.fixtures.http import Api, api_on

V2 = "/open311/v2"

# The specification's examples, cut to one entry each: their tags, in their order, are what is checked.
SPEC_SERVICES = """<?xml version="1.0" encoding="utf-8"?>
<services><service><service_code>001</service_code><service_name>Cans left out 24x7</service_name>
<description>Garbage or recycling cans that have been left out.</description><metadata>true</metadata>
<type>realtime</type><keywords>lorem, ipsum, dolor</keywords><group>sanitation</group></service></services>"""
SPEC_DEFINITION = """<?xml version="1.0" encoding="utf-8"?>
<service_definition><service_code>DMV66</service_code><attributes><attribute><variable>true</variable>
<code>WHISHETN</code><datatype>singlevaluelist</datatype><required>true</required><datatype_description>
</datatype_description><order>1</order><description>What is the ticket/tag/DL number?</description><values>
<value><key>123</key><name>Ford</name></value></values></attribute></attributes></service_definition>"""
SPEC_DISCOVERY = """<?xml version="1.0" encoding="UTF-8"?>
<discovery><changeset>2011-02-03 14:18</changeset><contact>api@mycity.org</contact><key_service>request a key
</key_service><endpoints><endpoint><specification>http://wiki.open311.org/GeoReport_v2</specification>
<url>http://open311.mycity.gov/v2</url><changeset>2010-11-23 09:01</changeset><type>production</type>
<formats><format>text/xml</format></formats></endpoint></endpoints></discovery>"""
SPEC_ERRORS = """<?xml version="1.0" encoding="utf-8"?>
<errors><error><code>403</code><description>Invalid api_key received</description></error></errors>"""
# The spec's lists: an element of these names holds one child per item (the Spark convention's arrays).
LISTS = {"attributes", "values", "endpoints", "formats"}
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'


def tags(element: Any) -> list[str]:
    return [child.tag for child in element]


def as_data(element: Any) -> Any:
    """XML read back as the spec's JSON would hold it (leaves as text, empty as None)."""
    if element.tag in LISTS:
        return [as_data(child) for child in element]
    if len(element):
        return {child.tag: as_data(child) for child in element}
    return element.text or None


def as_text(value: Any) -> Any:
    """JSON's values as XML writes them: true/false, numbers as text, null and "" as nothing."""
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value in (None, "") else str(value)


def get(api: Api, path: str, **kwargs: Any) -> Any:
    return api.client.get(f"{V2}/{path}", **kwargs)


def xml(response: Any) -> Any:
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(XML_DECLARATION)
    return SafeET.fromstring(response.content)


def json_of(response: Any) -> Any:
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return response.json()


def is_spec_error(response: Any, fmt: str, status: int) -> list[str]:
    """The spec's error document, in `fmt`, with `status` as each code: its descriptions."""
    assert response.status_code == status, response.text
    spec = SafeET.fromstring(SPEC_ERRORS.encode())
    if fmt == "xml":
        root = xml(response)
        assert root.tag == spec.tag and tags(root) == ["error"] * len(root) and len(root) >= 1
        assert all(tags(error) == tags(spec[0]) and error.findtext("code") == str(status) for error in root)
        return [error.findtext("description") for error in root]
    body = json_of(response)
    assert isinstance(body, list) and body
    assert all(list(error) == tags(spec[0]) and error["code"] == status for error in body)
    assert all(isinstance(error["description"], str) and error["description"] for error in body)
    return [error["description"] for error in body]


def test_the_service_list_has_the_spec_fields_in_the_spec_order_in_both_formats(api: Api) -> None:
    spec = SafeET.fromstring(SPEC_SERVICES.encode())
    listed = json_of(get(api, "services.json"))
    assert [entry["service_code"] for entry in listed] == [category.value for category in Category]
    for entry in listed:
        assert list(entry) == tags(spec[0])
        assert isinstance(entry["metadata"], bool) and entry["type"] in ("realtime", "batch", "blackbox")
        assert all(isinstance(entry[k], str) and entry[k] for k in ("service_name", "description", "keywords",
                                                                     "group"))
    assert {entry["service_code"] for entry in listed if entry["metadata"]} == {
        "elderly_fall", "fire_hazard", "unsafe_food"}
    root = xml(get(api, "services.xml"))
    assert root.tag == spec.tag and tags(root) == ["service"] * len(Category)
    assert all(tags(service) == tags(spec[0]) for service in root)
    assert [as_data(service) for service in root] == as_text(listed)


def test_a_service_definition_has_the_spec_fields_and_asks_its_questions(api: Api) -> None:
    spec = SafeET.fromstring(SPEC_DEFINITION.encode())
    spec_attribute = spec.find("attributes/attribute")
    fall = json_of(get(api, "services/elderly_fall.json"))
    assert list(fall) == tags(spec) and fall["service_code"] == "elderly_fall"
    [conscious] = fall["attributes"]
    assert list(conscious) == tags(spec_attribute)
    assert (conscious["variable"], conscious["code"], conscious["datatype"], conscious["required"],
            conscious["order"]) == (True, "conscious", "singlevaluelist", True, 1)
    assert [list(value) for value in conscious["values"]] == [tags(spec_attribute.find("values/value"))] * 3
    assert [value["key"] for value in conscious["values"]] == ["yes", "no", "unknown"]
    assert [value["name"] for value in conscious["values"]] == ["清醒", "不清醒", "不确定"]
    for code, asked in (("fire_hazard", "floor"), ("unsafe_food", "shop_name")):
        [attribute] = json_of(get(api, f"services/{code}.json"))["attributes"]
        assert (attribute["code"], attribute["datatype"], attribute["required"], attribute["values"]) == (
            asked, "string", False, [])
    assert json_of(get(api, "services/robbery.json")) == {"service_code": "robbery", "attributes": []}
    for category in Category:
        answer = json_of(get(api, f"services/{category.value}.json"))
        assert all(a["datatype"] in DATATYPES and isinstance(a["order"], int) and a["order"] >= 1
                   for a in answer["attributes"])
        assert len({a["order"] for a in answer["attributes"]}) == len(answer["attributes"])
        root = xml(get(api, f"services/{category.value}.xml"))
        assert root.tag == spec.tag and tags(root) == tags(spec)
        assert all(tags(attribute) == tags(spec_attribute) for attribute in root.find("attributes"))
        assert as_data(root) == as_text(answer)


def test_discovery_names_the_v2_endpoint_its_formats_and_how_to_get_a_key(api: Api) -> None:
    spec = SafeET.fromstring(SPEC_DISCOVERY.encode())
    found = json_of(get(api, "discovery.json"))
    assert list(found) == tags(spec)
    [endpoint] = found["endpoints"]
    assert list(endpoint) == tags(spec.find("endpoints/endpoint"))
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2", "url": "http://testserver/open311/v2",
                        "changeset": catalogue.CHANGESET, "type": "production",
                        "formats": ["application/json", "text/xml"]}
    assert found["changeset"] == catalogue.CHANGESET and "密钥" in found["key_service"]
    root = xml(get(api, "discovery.xml"))
    assert root.tag == "discovery" and tags(root) == tags(spec)
    assert tags(root.find("endpoints/endpoint/formats")) == ["format", "format"]
    assert as_data(root) == as_text(found)


def test_discovery_names_the_public_url_when_one_is_set(tmp_path: Path) -> None:
    with api_on(tmp_path, {"GRIDGOV_PUBLIC_URL": "https://grid.example.cn"}) as api:
        [endpoint] = json_of(get(api, "discovery.json"))["endpoints"]
    assert endpoint["url"] == "https://grid.example.cn/open311/v2"


def test_words_are_chinese_unless_english_is_asked_for(api: Api) -> None:
    chinese = [CATEGORY_WORDS[category][0] for category in Category]
    english = [CATEGORY_WORDS[category][1] for category in Category]
    names = lambda response: [entry["service_name"] for entry in json_of(response)]  # noqa: E731
    assert names(get(api, "services.json")) == chinese
    assert names(get(api, "services.json", params={"locale": "en"})) == english
    assert names(get(api, "services.json", headers={"Accept-Language": "en-US,en;q=0.9"})) == english
    assert names(get(api, "services.json", params={"locale": "zh_CN"}, headers={"Accept-Language": "en"})) == chinese
    assert names(get(api, "services.json", headers={"Accept-Language": "fr"})) == chinese
    [attribute] = json_of(get(api, "services/elderly_fall.json", params={"locale": "en"}))["attributes"]
    assert attribute["description"] == "Is the person conscious?"
    assert get(api, "services.json").headers["vary"] == "Accept-Language"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_are_the_spec_list_in_the_paths_format(api: Api, fmt: str) -> None:
    [said] = is_spec_error(get(api, f"services/no_such_thing.{fmt}"), fmt, 404)
    assert "no_such_thing" in said
    is_spec_error(get(api, f"no/such/route.{fmt}"), fmt, 404)
    [said] = is_spec_error(get(api, f"services.{fmt}", params={"jurisdiction_id": "火星区", "locale": "en"}), fmt, 404)
    assert said == "no such jurisdiction_id: 火星区"
    [said] = is_spec_error(get(api, f"services.{fmt}", params={"jurisdiction_id": "x" * 101}), fmt, 400)
    assert "jurisdiction_id" in said and re.search("[一-鿿]", said), said  # Chinese words, naming the field
    [said] = is_spec_error(get(api, f"services.{fmt}", params={"jurisdiction_id": "x" * 101, "locale": "en"}),
                           fmt, 400)
    assert "jurisdiction_id" in said and "100 characters" in said
    is_spec_error(api.client.delete(f"{V2}/services.{fmt}"), fmt, 405)
    is_spec_error(api.client.post(f"{V2}/services.{fmt}", content=b"x" * 70_000), fmt, 413)


def test_an_unknown_format_is_a_404_in_json(api: Api) -> None:
    for path in ("services.csv", "services/robbery.html", "discovery.yaml"):
        [said] = is_spec_error(get(api, path), "json", 404)
        assert ".json" in said and ".xml" in said


def test_a_known_jurisdiction_is_answered(api: Api) -> None:
    assert get(api, "services.xml", params={"jurisdiction_id": "温江"}).status_code == 404
    admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    api.command("register-grid", {"district": "温江", "street": "柳城街道", "community": "光华社区", "name": "柳城-1"},
                admin)
    api.feed.catch_up()
    for path in ("services.xml", "services/fire_hazard.json"):
        assert get(api, path, params={"jurisdiction_id": "温江"}).status_code == 200
    assert get(api, "services.json", params={"jurisdiction_id": ""}).status_code == 200  # empty is absent


def test_an_unexpected_failure_is_a_logged_500_in_the_spec_format(api: Api, monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    def broken(language: str) -> list[dict[str, Any]]:
        raise RuntimeError("the catalogue broke")

    monkeypatch.setattr(catalogue, "services", broken)
    caplog.set_level(logging.ERROR)
    [said] = is_spec_error(get(api, "services.xml"), "xml", 500)
    assert "已记录" in said  # words (the error is logged), not a trace
    assert any(record.exc_info and str(record.exc_info[1]) == "the catalogue broke" for record in caplog.records)


def test_outside_open311_errors_stay_problems(api: Api) -> None:
    response = api.client.get("/v1/no/such/route.xml")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with api_on(tmp_path_factory.mktemp("open311")) as api:
        yield api


HEADER_TEXT = st.text(string.ascii_letters + string.digits + "-_;=,.* ", max_size=30)
ANY_TEXT = st.text(max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.one_of(st.sampled_from([c.value for c in Category]), ANY_TEXT),
       locale=st.one_of(st.none(), st.sampled_from(["zh", "en", "zh-CN", "en_GB"]), HEADER_TEXT),
       accept=st.one_of(st.none(), HEADER_TEXT), jurisdiction=st.one_of(st.none(), ANY_TEXT),
       page=st.sampled_from(["services", "service", "discovery"]))
def test_json_and_xml_carry_the_same_data(shared: Api, code: str, locale: str | None, accept: str | None,
                                          jurisdiction: str | None, page: str) -> None:
    path = {"services": "services", "discovery": "discovery", "service": f"services/{quote(code, safe='')}"}[page]
    params = {k: v for k, v in (("locale", locale), ("jurisdiction_id", jurisdiction)) if v is not None}
    headers = {"Accept-Language": accept} if accept is not None else {}
    as_json = shared.client.get(f"{V2}/{path}.json", params=params, headers=headers)
    as_xml = shared.client.get(f"{V2}/{path}.xml", params=params, headers=headers)
    assert as_json.status_code == as_xml.status_code and as_json.status_code < 500, as_json.text
    data, root = json_of(as_json), xml(as_xml)
    if as_json.status_code != 200:
        assert root.tag == "errors" and [as_data(e) for e in root] == as_text(data)
    elif isinstance(data, list):
        assert [as_data(entry) for entry in root] == as_text(data)
    else:
        assert as_data(root) == as_text(data)
