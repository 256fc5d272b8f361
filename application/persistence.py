"""How events become stored events and come back: a typed mapper (the bytes are
eventlog/transcoder.py's).

The library's default mapper sets decoded dicts straight onto objects and relies
on its JSONTranscoder's registered transcodings for UUIDs and datetimes; with a
bare orjson transcoder that would give back strings. So, as in the library's
example `aggregate7`, the mapper here dumps pydantic events in JSON mode and
validates them back against their declared field types. The schema version is
stored as `_v` (absent means 1) and lifted by upcasting.py on the way out.
An event is stored under its declared name (`gridgov.TaskClaimed`), and read
under that or the module path older history carries (domain.events).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent

from domain.events import Event, event_class, stored_name
from domain.upcasting import upcast

VERSION_KEY = "_v"
IN_COLUMNS = {"originator_id", "originator_version"}


class PydanticMapper(Mapper):
    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event: Event = domain_event
        state = event.model_dump(mode="json", exclude=IN_COLUMNS)
        if event.schema_version > 1:
            state[VERSION_KEY] = event.schema_version
        data = self.transcoder.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(originator_id=event.originator_id, originator_version=event.originator_version,
                           topic=stored_name(type(event)), state=data)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        try:
            cls = event_class(stored_event.topic)
            state = self.decode_state(stored_event.state)
            state = upcast(cls.__name__, state, state.pop(VERSION_KEY, 1), cls.schema_version)
            return cls.model_validate(
                {**state, "originator_id": stored_event.originator_id,
                 "originator_version": stored_event.originator_version})
        except Exception as e:
            raise MapperDeserialisationError(
                f"cannot read stored event {stored_event.topic} of {stored_event.originator_id} "
                f"v{stored_event.originator_version}: {e}") from e

    def decode_state(self, data: bytes) -> dict[str, Any]:
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        return self.transcoder.decode(data)
