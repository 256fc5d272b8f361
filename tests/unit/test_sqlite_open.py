"""Read-model files opened by several consumers at once.

Found in CI: two consumers starting together on a new read-model file, one died
with "database is locked" from the switch to WAL mode, which SQLite refuses at once
instead of waiting. Whatever the number of openers, every one of them opens the
file, in WAL mode, and can write.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.stores.sqlite import SQLiteStore


@settings(max_examples=40, deadline=None)
@given(openers=st.integers(2, 6))
def test_everyone_who_opens_a_new_file_at_once_gets_it_in_wal_mode(openers: int) -> None:
    path = Path(tempfile.mkdtemp()) / "readmodels.sqlite"
    start = threading.Barrier(openers)
    modes: list[str] = []
    errors: list[BaseException] = []

    def open_and_write(n: int) -> None:
        store = SQLiteStore(str(path))
        try:
            start.wait()
            with store.transaction() as tx:
                modes.append(tx.fetchone("PRAGMA journal_mode")[0])
                tx.execute(f"CREATE TABLE IF NOT EXISTS t{n} (k INTEGER PRIMARY KEY)")
        except BaseException as e:  # the test says it, not the thread
            errors.append(e)
        finally:
            store.close()

    threads = [threading.Thread(target=open_and_write, args=(n,)) for n in range(openers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert modes == ["wal"] * openers
    assert SQLiteStore(str(path)).tables() >= {f"t{n}" for n in range(openers)}
