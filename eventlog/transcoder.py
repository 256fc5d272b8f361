"""Stored state as bytes: orjson, which the log readers (the projections' feed,
the relay) decode without the library's mapper when nothing is ciphered or
compressed (projections/engine/feed.py)."""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import Transcoder


class OrjsonTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)
