"""A Kafka record is written and read the same whichever way it is.

The relay writes a record as the CloudEvents SDK would, without it, and consumers read
a record in the relay's own shape straight from its headers, leaving every other to the
SDK (consumers/envelope.py). Here any fact, however odd its stream, time or data, must
make the very message the SDK makes, header for header, or the same error (and, for the
Server-Sent Events, the same JSON document once parsed, or the same error); and any
record the relay writes, and any such record broken on the way (a header dropped,
renamed, added or given other bytes; the value or its timestamp replaced), must come out
of `from_message` exactly as out of the SDK: the same Fact, or poison for both.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

import application.service  # noqa: F401  (the event types register as their modules load)
from consumers.envelope import (RELAY_HEADERS, PoisonMessage, from_message, from_message_by_the_sdk, to_json,
                                to_json_by_the_sdk, to_message, to_message_by_the_sdk)
from domain.events import EVENT_TYPES
from projections.facts import Fact

KINDS = sorted(EVENT_TYPES)
json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=6)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                        timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=8))]))


@st.composite
def facts(draw: st.DrawFn) -> Fact:
    when = draw(instants)
    stamp = draw(st.sampled_from([when.isoformat(), when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")]))
    data = {**draw(st.dictionaries(st.text(max_size=6), json_values, max_size=4)),
            "timestamp": stamp, "meta": draw(st.dictionaries(st.text(max_size=5), json_values, max_size=2))}
    return Fact.of(draw(st.sampled_from(KINDS)), draw(st.text(min_size=1, max_size=40)),
                   draw(st.integers(1, 2**40)), data)


header_names = st.sampled_from(sorted(RELAY_HEADERS)) | st.text(min_size=1, max_size=16)
header_bytes = st.binary(max_size=40) | st.text(max_size=40).map(str.encode) | st.sampled_from(
    [b"", b"0", b"1", b"1.0", b"/gridgov", b"application/json", b"gridgov.TaskClaimed", b"2026-11-02T01:00:00Z",
     b"2026-11-02T24:00:00Z", "２０２６-11-02T01:00:00Z".encode(), "٣".encode(), b"\xff", b"-1", b"01"])
values = st.binary(max_size=60) | json_values.map(orjson.dumps)


@st.composite
def records(draw: st.DrawFn) -> tuple[dict[str, bytes], bytes | None, bytes]:
    """A record as the relay writes it, then broken in up to three ways."""
    fact = draw(facts())
    message = to_message(fact, draw(st.integers(1, 2**40)))
    headers, key, value = dict(message.headers), message.key, message.value
    for _ in range(draw(st.integers(0, 3))):
        change = draw(st.sampled_from(["drop", "set", "add", "upper", "value", "timestamp", "key"]))
        name = draw(st.sampled_from(sorted(headers))) if headers else None
        if change == "drop" and name:
            del headers[name]
        elif change == "set" and name:
            headers[name] = draw(header_bytes)
        elif change == "add":
            headers[draw(header_names)] = draw(header_bytes)
        elif change == "upper" and name:
            headers[name.upper()] = headers.pop(name)
        elif change == "value":
            value = draw(values)
        elif change == "timestamp":
            data: dict[str, Any] = {**fact.data, "timestamp": draw(st.text(max_size=30) | json_values)}
            value = orjson.dumps(data)
        elif change == "key":
            key = draw(st.none() | st.binary(max_size=20))
    return headers, key, value


def outcome(read: Any, headers: dict[str, bytes], key: bytes | None, value: bytes) -> Any:
    try:
        return read(dict(headers), key, value)
    except PoisonMessage:
        return "poison"


@settings(max_examples=400, deadline=None)
@given(facts(), st.integers(1, 2**40))
def test_what_the_relay_writes_is_read_back_as_the_same_fact(fact: Fact, position: int) -> None:
    message = to_message(fact, position)
    assert from_message(list(message.headers.items()), message.key, message.value) == fact
    assert from_message_by_the_sdk(dict(message.headers), message.key, message.value) == fact


@settings(max_examples=600, deadline=None)  # 30,000 once (2026-12-06)
@given(records())
def test_any_record_reads_as_the_sdk_reads_it(record: tuple[dict[str, bytes], bytes | None, bytes]) -> None:
    headers, key, value = record
    assert outcome(from_message, headers, key, value) == outcome(from_message_by_the_sdk, headers, key, value)


@st.composite
def any_facts(draw: st.DrawFn) -> Fact:
    """Facts as the store could hand them, and some it should not: any stream text, a time
    without a zone or not a time, data orjson cannot write, a type nobody knows."""
    when = draw(instants | st.datetimes(min_value=datetime(1, 1, 1)))
    stamp = draw(st.sampled_from([when.isoformat(), when.isoformat().replace("+00:00", "Z")]) | st.text(max_size=12))
    data = {**draw(st.dictionaries(st.text(max_size=6), json_values | st.integers(), max_size=4)),
            "timestamp": stamp, "meta": {}}
    kind = draw(st.sampled_from(KINDS) | st.text(max_size=8))
    return Fact(kind, draw(st.text(max_size=20)), draw(st.integers(0, 2**63)), data, "")


def written(write: Any, fact: Fact, position: int) -> Any:
    try:
        message = write(fact, position)
    except Exception as e:  # the relay sends the fact to the dead-letter topic with it
        return type(e).__name__
    return list(message.headers.items()), message.key, message.value


@settings(max_examples=500, deadline=None)  # 20,000 once (2026-12-06)
@given(any_facts(), st.integers(0, 2**63))
def test_any_fact_is_written_as_the_sdk_writes_it(fact: Fact, position: int) -> None:
    assert written(to_message, fact, position) == written(to_message_by_the_sdk, fact, position)


def document(write: Any, fact: Fact, position: int) -> Any:
    try:
        return json.loads(write(fact, position))
    except Exception as e:  # the stream leaves the event out and logs why
        return type(e).__name__


@settings(max_examples=500, deadline=None)
@given(any_facts(), st.integers(0, 2**63))
def test_any_fact_is_sent_to_a_browser_as_the_sdk_writes_it(fact: Fact, position: int) -> None:
    """Parsed by `json`, as the SDK's bytes are: orjson could not read back an integer past
    64 bits, which the SDK writes."""
    assert document(to_json, fact, position) == document(to_json_by_the_sdk, fact, position)
