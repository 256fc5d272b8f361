"""CloudEvents 1.0 over Kafka (binary content mode), as the `cloudevents` SDK writes and reads it.

One topic per aggregate type, keyed by aggregate id, so each stream keeps its
order. Attributes a subscriber can rely on:

  id             <stream>:<version>   stable when the relay re-publishes
  source         /gridgov
  type           gridgov.<EventType>  e.g. gridgov.TaskClaimed
  subject        the aggregate id (also the Kafka key, `partitionkey`)
  time           when it happened (UTC)
  datacontenttype application/json    data is the event's fields, actor and ids
  streamversion  the event's version within its stream (1, 2, …)
  schemaversion  the data's schema version (upcast to the newest before publishing)
  position       its position in the event store's log
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary, to_binary
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from domain.events import EVENT_TYPES
from projections.facts import Fact

SOURCE = "/gridgov"
TYPE_PREFIX = "gridgov."
CONTENT_TYPE = "application/json"
SOURCE_BYTES, CONTENT_TYPE_BYTES = SOURCE.encode(), CONTENT_TYPE.encode()


class OrjsonFormat(JSONFormat):
    """The SDK's JSON format with orjson for the payload: same bytes on the wire, faster."""

    def write_data(self, data: Any, datacontenttype: str | None) -> bytes:
        if isinstance(data, dict):
            return orjson.dumps(data)
        return super().write_data(data, datacontenttype)

    def read_data(self, body: bytes, datacontenttype: str | None) -> Any:
        if body and (datacontenttype or CONTENT_TYPE).startswith(CONTENT_TYPE):
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                return body  # not JSON: the consumer will call it poison
        return super().read_data(body, datacontenttype)


FORMAT = OrjsonFormat()


class PoisonMessage(ValueError):
    """A message that is not a gridgov CloudEvent we can read."""


def aggregate_of(event_type: str) -> str:
    """`TaskClaimed` -> `tasks`: the aggregate it declares, which names its topic."""
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        raise PoisonMessage(f"unknown event type {event_type!r}")
    return cls.aggregate


def topic_for(event_type: str, prefix: str = "gridgov") -> str:
    return f"{prefix}.{aggregate_of(event_type)}.v1"


def cloud_event(fact: Fact, position: int) -> CloudEvent:
    schema_version = EVENT_TYPES[fact.type].schema_version
    return CloudEvent(attributes={
        "id": f"{fact.stream}:{fact.version}",
        "source": SOURCE,
        "type": TYPE_PREFIX + fact.type,
        "subject": fact.stream,
        "time": datetime.fromisoformat(fact.data["timestamp"]),
        "datacontenttype": CONTENT_TYPE,
        "partitionkey": fact.stream,
        "streamversion": str(fact.version),
        "schemaversion": str(schema_version),
        "position": str(position),
    }, data=fact.data)


def to_message(fact: Fact, position: int) -> KafkaMessage:
    """Binary mode for Kafka: attributes in headers, the data as the value.

    Written here as the SDK writes it, byte for byte and header for header: its event's
    validation and `to_binary` were a quarter of the relay's time. A fact the SDK could
    refuse (no stream, a time without its zone) goes through the SDK, which says why
    (tests/property/test_envelope.py holds the two to the same message or the same error)."""
    checked = _checked(fact)
    if checked is None:
        return to_message_by_the_sdk(fact, position)
    schema_version, time = checked
    stream = fact.stream.encode()
    headers = {"ce_id": b"%s:%d" % (stream, fact.version), "ce_source": SOURCE_BYTES,
               "ce_type": (TYPE_PREFIX + fact.type).encode(), "ce_subject": stream, "ce_time": time.encode(),
               "content-type": CONTENT_TYPE_BYTES, "ce_partitionkey": stream,
               "ce_streamversion": b"%d" % fact.version, "ce_schemaversion": b"%d" % schema_version,
               "ce_position": b"%d" % position, "ce_specversion": b"1.0"}
    return KafkaMessage(headers=headers, key=fact.stream, value=orjson.dumps(fact.data))


def to_json(fact: Fact, position: int) -> bytes:
    """Structured mode (one JSON document), for Server-Sent Events: the same attributes, and
    the data, written by orjson (the SDK's `json.dumps` took 23 µs an event). The same document
    as the SDK's once parsed: the SDK escapes what is not ASCII, orjson writes UTF-8. What
    orjson cannot write (an integer past 64 bits) goes through the SDK, as in `to_message`."""
    attributes = _attributes(fact, position)
    if attributes is None:
        return to_json_by_the_sdk(fact, position)
    try:
        return orjson.dumps({**attributes, "data": fact.data})
    except orjson.JSONEncodeError:
        return to_json_by_the_sdk(fact, position)


def _attributes(fact: Fact, position: int) -> dict[str, str] | None:
    """The event's attributes in the SDK's order, or None when the SDK must decide.
    (`to_message` formats the same as bytes in place: built from this dict, a record took
    2.3 µs more of the relay's time.)"""
    checked = _checked(fact)
    if checked is None:
        return None
    schema_version, time = checked
    stream = fact.stream
    return {"id": f"{stream}:{fact.version}", "source": SOURCE, "type": TYPE_PREFIX + fact.type, "subject": stream,
            "time": time, "datacontenttype": CONTENT_TYPE, "partitionkey": stream,
            "streamversion": str(fact.version), "schemaversion": str(schema_version), "position": str(position),
            "specversion": "1.0"}


def _checked(fact: Fact) -> tuple[int, str] | None:
    """The fact's schema version and its time as the SDK writes it; None when the SDK must
    decide (it may refuse the fact). Looked up in the SDK's order, so that a bad fact fails
    as it fails there."""
    schema_version = EVENT_TYPES[fact.type].schema_version
    when = datetime.fromisoformat(fact.data["timestamp"])
    if not fact.stream or when.tzinfo is None:
        return None
    time = when.isoformat()
    return schema_version, time[:-6] + "Z" if time.endswith("+00:00") else time


def to_message_by_the_sdk(fact: Fact, position: int) -> KafkaMessage:
    return to_binary(cloud_event(fact, position), FORMAT)


def to_json_by_the_sdk(fact: Fact, position: int) -> bytes:
    return FORMAT.write(cloud_event(fact, position))


# Every header the relay writes, and nothing else: a record in exactly this shape is read
# without the SDK (`_as_the_relay_wrote_it`); any other goes through it.
RELAY_HEADERS = frozenset({"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time",
                           "content-type", "ce_partitionkey", "ce_streamversion", "ce_schemaversion", "ce_position"})
UTC_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
DIGITS = re.compile(r"[1-9][0-9]{0,17}")


def from_message(headers: list[tuple[str, bytes]] | dict[str, bytes], key: bytes | None, value: bytes) -> Fact:
    """The Fact a Kafka record carries; PoisonMessage if it is not one of ours.

    A record in the relay's own shape is read straight from its headers: the SDK's
    parse (every attribute validated, the time parsed by dateutil) was 40 µs a record,
    the most of a consumer's time after the fetch. Anything else, from another
    producer or broken on the way, is read by the SDK, which decides what is poison.
    Both give the same Fact or the same refusal (tests/property/test_envelope.py)."""
    given = dict(headers)
    return _as_the_relay_wrote_it(given, key, value) or from_message_by_the_sdk(given, key, value)


def _as_the_relay_wrote_it(headers: dict[str, bytes], key: bytes | None, value: bytes) -> Fact | None:
    """None unless every attribute is as the relay writes it, so that the SDK would read
    the same: then the SDK's checks have nothing left to refuse. (The key is the stream
    id, as the subject: the SDK reads it too, as text.)"""
    if headers.keys() != RELAY_HEADERS or key != headers["ce_subject"] or headers["ce_specversion"] != b"1.0" \
            or headers["ce_source"] != SOURCE_BYTES or headers["content-type"] != CONTENT_TYPE_BYTES:
        return None
    try:
        text = {name: raw.decode() for name, raw in headers.items()}
    except UnicodeDecodeError:
        return None
    kind, subject, version = text["ce_type"], text["ce_subject"], text["ce_streamversion"]
    if not (kind.startswith(TYPE_PREFIX) and kind[len(TYPE_PREFIX):] in EVENT_TYPES and subject
            and DIGITS.fullmatch(version) and text["ce_id"] == f"{subject}:{version}"
            and text["ce_partitionkey"] == subject and DIGITS.fullmatch(text["ce_schemaversion"])
            and DIGITS.fullmatch(text["ce_position"]) and UTC_TIME.fullmatch(text["ce_time"])):
        return None
    try:
        datetime.fromisoformat(text["ce_time"])
        data = orjson.loads(value)
        if not isinstance(data, dict) or "timestamp" not in data or "meta" not in data:
            return None
        return Fact.of(kind[len(TYPE_PREFIX):], subject, int(version), data)
    except (orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
        return None


def from_message_by_the_sdk(headers: dict[str, bytes], key: bytes | None, value: bytes) -> Fact:
    """Any record, read by the CloudEvents SDK."""
    try:
        event = from_binary(KafkaMessage(headers=headers, key=key, value=value), FORMAT)
        kind = event.get_type()
        data = event.get_data()
        version = int(event.get_extension("streamversion"))
    except PoisonMessage:
        raise
    except Exception as e:  # the SDK raises several kinds for a bad envelope
        raise PoisonMessage(f"not a CloudEvent: {type(e).__name__}: {e}") from None
    if not kind.startswith(TYPE_PREFIX) or kind[len(TYPE_PREFIX):] not in EVENT_TYPES:
        raise PoisonMessage(f"unknown event type {kind!r}")
    if not isinstance(data, dict) or "timestamp" not in data or "meta" not in data:
        raise PoisonMessage("data is not a gridgov event payload")
    subject = event.get_subject()
    if not subject:
        raise PoisonMessage("no subject (stream id)")
    try:
        return Fact.of(kind[len(TYPE_PREFIX):], subject, version, data)
    except (TypeError, ValueError, AttributeError) as e:
        raise PoisonMessage(f"bad timestamp {data['timestamp']!r}: {e}") from None
