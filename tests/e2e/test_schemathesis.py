"""Property-based API fuzzing with schemathesis over the app's own OpenAPI: no
input the schema allows (or nearly allows) may produce a 5xx, and responses must
match their declared schemas."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.http.app import app_of
from api.http.auth import mint
from api.http.language import TEXTS
from gridgov import bootstrap
from gridgov.settings import load_settings
from domain.clock import ManualClock
from domain.events import Role
from tests.fixtures.in_loop import InLoop
from tests.fixtures.world import START

SECRET = "schemathesis-secret-of-at-least-32-bytes"
# The operations are shared out in PARTS tests, so the workers of the full run share the fuzz.
PARTS = 8


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("gridgov-fuzz")
    engine = bootstrap.bootstrap(load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(folder / "readmodels.sqlite")}), clock=ManualClock(START))
    yield app_of(engine.follow(interval=0.02), SECRET)
    engine.close()


@pytest.fixture(scope="module")
def in_loop(app: Any) -> Iterator[InLoop]:
    calls = InLoop(app)
    yield calls
    calls.close()


_running: list[int] = [0]  # the part of the operations the test being run takes


@pytest.fixture(params=range(PARTS), ids=lambda part: f"part-{part}")
def api_schema(request: pytest.FixtureRequest, app: Any) -> Any:
    """The app's own document, loaded when a test runs (`schemathesis.pytest.from_fixture`): schemathesis
    makes its coverage cases as it builds an operation's test, 20 CPU-seconds that every worker of the
    full run paid while collecting when the schema was loaded at import."""
    _running[0] = request.param
    # schemathesis 4.32 renames the test for each operation through `_nodeid`, which pytest 9.2's nodes no
    # longer have; the reports keep the test's own id, and each operation's label.
    request.node._nodeid = request.node.nodeid
    return schemathesis.openapi.from_asgi("/openapi.json", app)


# The lazy schema's filters replace the loaded one's. Open311's routes answer the spec's errors, not
# problem+json: fuzzed in test_open311_fuzz.py, with a key.
schema = (schemathesis.pytest.from_fixture("api_schema").exclude(path_regex="^/open311/")
          .include(lambda ctx: zlib.crc32(ctx.operation.label.encode()) % PARTS == _running[0]))


CJK = re.compile("[\u4e00-\u9fff]")
RIDER = "4f6c1a4e-5d8a-4a57-9b1c-2c1d8e9f0a11"


def _forged(**claims: object) -> str:
    """A token signed with our secret whose claims have the wrong shape: must be a 401, never a 500."""
    import jwt

    from api.http.auth import ISSUER
    return jwt.encode({"iss": ISSUER, "sub": "admin-温江", "role": "district_admin", "exp": 2**40, **claims},
                      SECRET, algorithm="HS256")


# Every role, with every case.
ROLES = [mint(SECRET, "admin-温江", Role.DISTRICT_ADMIN, ["温江"]), mint(SECRET, "auditor-温江", Role.AUDITOR, ["温江"]),
         mint(SECRET, "officer-1", Role.GRID_OFFICER, ["温江"], ["a-grid"]), mint(SECRET, RIDER, Role.RIDER),
         mint(SECRET, "svc", Role.SERVICE, ["温江", "锦江"])]
# Claims of the wrong type, with an operation's first case: a token is refused before anything of the request
# is read, so every case of an operation met the same refusal (four calls of nine, 40 % of the fuzz's time).
FORGED = [_forged(districts=1), _forged(grids=[["x"]]), _forged(role="system"), _forged(role="rider", sub="x")]
_forged_sent: set[str] = set()  # the operations a forged token was sent to


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.filterwarnings("ignore")
def test_the_api_never_answers_5xx(case, in_loop) -> None:  # type: ignore[no-untyped-def]
    if case.path == "/v1/events/stream":
        case.query = {**(case.query or {}), "follow": "false"}  # a followed stream never ends
    label = f"{case.method} {case.operation.path}"
    tokens = ROLES if label in _forged_sent else [*ROLES, *FORGED]
    _forged_sent.add(label)
    for i, token in enumerate(tokens):
        language = ("zh-CN,zh;q=0.9", "en")[i % 2]
        response = in_loop.call(case, headers={"Authorization": f"Bearer {token}", "Accept-Language": language})
        # The one 5xx the API means: a read model not yet at a position asked for (retry).
        behind = response.status_code == 503 and "read-model-behind" in response.text
        assert response.status_code < 500 or behind, \
            f"{case.method} {case.path}: {response.status_code} {response.text[:500]}"
        if response.status_code >= 400:
            content_type = response.headers["content-type"]
            content_type = content_type[0] if isinstance(content_type, list) else content_type
            assert content_type == "application/problem+json", response.text[:300]
            # Every problem the API gives has its words in both languages (api/http/language.py).
            code = response.json()["type"].removeprefix("urn:gridgov:problem:")
            assert code in TEXTS, f"no words for problem {code!r}"
            if language.startswith("zh"):
                assert CJK.search(response.json()["title"]), response.text[:300]
        else:
            case.validate_response(response, checks=[schemathesis.checks.response_schema_conformance])
