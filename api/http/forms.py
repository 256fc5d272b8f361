"""Forms sent with their text in raw UTF-8, read as the sender meant them.

A urlencoded body should percent-escape every byte past ASCII, but many clients (curl's -d, hand-made
Open311 clients) send Chinese as raw UTF-8. The WHATWG URL standard reads such a body byte for byte,
percent-decodes, then decodes UTF-8, so raw and escaped bytes mean the same text. Starlette reads the
raw bytes as Latin-1 instead: 老人 became "è\x80\x81äº\xba" and was refused as control characters. Escaping
each byte past ASCII before Starlette parses gives it the form the standard would have read.
"""

import re
from typing import Any

URLENCODED = b"application/x-www-form-urlencoded"
_PAST_ASCII = re.compile(rb"[\x80-\xff]")


def escaped(raw: bytes) -> bytes:
    """Each byte past ASCII as %XX: the same form to a standard reader, and ASCII to Starlette's."""
    return _PAST_ASCII.sub(lambda byte: b"%%%02X" % byte.group()[0], raw)


class Utf8Forms:
    """ASGI middleware: a urlencoded body's and every query string's bytes past ASCII percent-escaped."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # In place, not a copy: the layers outside read back what the routes put in the scope (its "state").
        scope["query_string"] = escaped(scope.get("query_string", b""))
        if not _is_urlencoded(scope):
            return await self.app(scope, receive, send)

        async def escaping() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                message = {**message, "body": escaped(message.get("body", b""))}
            return message

        await self.app(scope, escaping, send)


def _is_urlencoded(scope: dict[str, Any]) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == URLENCODED
    return False
