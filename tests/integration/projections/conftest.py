"""The read-model store every projection test here runs on: once on SQLite, once on
PostgreSQL (a schema of its own; skipped locally when unreachable, failing in CI)."""

from __future__ import annotations

from typing import Iterator

import pytest

from projections.stores import ReadStore
from tests.fixtures.stores import new_store, require_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request) -> Iterator[ReadStore]:  # type: ignore[no-untyped-def]
    if request.param == "postgres":
        require_postgres()
    read_store, cleanup = new_store(request.param)
    yield read_store
    cleanup()
