"""CloudEvents 1.0 over Kafka (binary content mode), through the `cloudevents` SDK.

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
    """Binary mode for Kafka: attributes in headers, the data as the value."""
    return to_binary(cloud_event(fact, position), FORMAT)


def to_json(fact: Fact, position: int) -> bytes:
    """Structured mode (one JSON document), for Server-Sent Events."""
    return FORMAT.write(cloud_event(fact, position))


def from_message(headers: list[tuple[str, bytes]] | dict[str, bytes], key: bytes | None, value: bytes) -> Fact:
    """The Fact a Kafka record carries; PoisonMessage if it is not one of ours."""
    try:
        event = from_binary(KafkaMessage(headers=dict(headers), key=key, value=value), FORMAT)
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
