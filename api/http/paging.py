"""Page cursors: the sort key of a page's last row, opaque to the caller."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from domain.errors import InvalidInput


def cursor(key: tuple[Any, ...]) -> str:
    """An opaque, stable page cursor: the sort key of the last row of a page."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def cursor_of(text: str | None) -> tuple[Any, ...] | None:
    if text is None:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        at, stream, version = key
        if (isinstance(at, str) and isinstance(stream, str) and type(version) is int and 0 < version < 2**63
                and len(at) <= 40 and len(stream) <= 40):
            return at, stream, version
    except (ValueError, TypeError, orjson.JSONDecodeError):
        pass
    raise InvalidInput("`after` is not a cursor this API gave out; pass a page's `next` as it is", after=text)
