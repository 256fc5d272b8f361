"""The add-checkpoint words (C2SP tlog-witness): what the client writes the server reads back
unchanged, the spec's example parses, and any other body is Malformed (a 400), never another error."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transparency.witness import client
from transparency.witness.protocol import AddCheckpoint, Malformed, format_request, parse_request, split_note

SPEC_EXAMPLE = """old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
"""
NOTE = SPEC_EXAMPLE.split("\n\n", 1)[1]


def test_the_specs_example_parses_and_writes_back_byte_for_byte() -> None:
    request = parse_request(SPEC_EXAMPLE.encode())
    assert request.old_size == 20852014 and len(request.proof) == 4 and request.note == NOTE
    assert format_request(request) == SPEC_EXAMPLE.encode()
    text, signatures = split_note(request.note)
    assert text == "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert len(signatures) == 2


@settings(max_examples=80, deadline=None)
@given(old=st.integers(0, 2**63), proof=st.lists(st.binary(min_size=32, max_size=32), max_size=63))
def test_what_the_client_writes_the_server_reads(old: int, proof: list[bytes]) -> None:
    request = AddCheckpoint(old, proof, NOTE)
    assert parse_request(format_request(request)) == request


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_body_is_a_request_or_malformed(body: bytes) -> None:
    try:
        request = parse_request(body)
    except Malformed:
        return
    assert format_request(request) == body


@pytest.mark.parametrize("body", [
    SPEC_EXAMPLE.replace("old 20852014", "old 020852014"),  # a leading zero
    SPEC_EXAMPLE.replace("old 20852014", "old +5"),
    SPEC_EXAMPLE.replace("old 20852014", "old  5"),
    SPEC_EXAMPLE.replace("old 20852014", "old 5\r"),
    SPEC_EXAMPLE.replace("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=", "PlRNCrwHpqhG"),  # not 32 bytes
    SPEC_EXAMPLE.replace("\n\nexample.com", "\nexample.com"),  # no blank line
    SPEC_EXAMPLE[:-1],  # no final newline
    SPEC_EXAMPLE.replace("\u2014 example.com/behind-the-sofa Az3", "- example.com/behind-the-sofa Az3"),
    "old 0\n" + (base64.b64encode(bytes(32)).decode() + "\n") * 64 + "\n" + NOTE,  # a proof line past the bound
])
def test_bodies_another_client_would_not_send_are_malformed(body: str) -> None:
    with pytest.raises(Malformed):
        parse_request(body.encode())


class _Witness(BaseHTTPRequestHandler):
    """Answers as told by the test: status, content type, body."""
    protocol_version = "HTTP/1.1"
    answer: tuple[int, str, bytes] = (200, "text/plain", b"")
    seen: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        self.seen.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
        status, kind, body = self.answer
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def witness():  # type: ignore[no-untyped-def]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Witness)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Witness.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


REQUEST = AddCheckpoint(0, [], NOTE)
LINE = "\u2014 witness.example/w1 " + base64.b64encode(bytes(76)).decode()


def test_the_client_posts_the_body_to_add_checkpoint_and_returns_the_lines(witness: str) -> None:
    _Witness.answer = (200, "text/plain; charset=utf-8", f"{LINE}\n{LINE}\n".encode())
    assert client.add_checkpoint(witness + "/", REQUEST, 5) == [LINE, LINE]
    assert _Witness.seen == [("/add-checkpoint", format_request(REQUEST))]


def test_a_409_is_a_conflict_with_the_witness_size(witness: str) -> None:
    _Witness.answer = (409, "text/x.tlog.size", b"4417\n")
    with pytest.raises(client.Conflict) as conflict:
        client.add_checkpoint(witness, REQUEST, 5)
    assert conflict.value.size == 4417


@pytest.mark.parametrize("answer", [(409, "text/plain", b"4417\n"), (409, "text/x.tlog.size", b"44x\n"),
                                    (422, "text/plain", b"inconsistent\n"), (200, "text/plain", b"not a line\n"),
                                    (403, "text/plain", b"")])
def test_other_answers_are_refusals_with_their_status(witness: str, answer: tuple[int, str, bytes]) -> None:
    _Witness.answer = answer
    with pytest.raises(client.Refused) as refused:
        client.add_checkpoint(witness, REQUEST, 5)
    assert refused.value.status == answer[0]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "not a url", "http://[::1"])
def test_no_witness_there_is_unreachable(url: str) -> None:
    with pytest.raises(client.Unreachable):
        client.add_checkpoint(url, REQUEST, 2)
