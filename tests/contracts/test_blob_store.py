"""The blob store's contract (photos.blobs.BlobStore), one suite run on every backend:
a dict, files under a folder, a bucket of the real S3 server of scripts/seaweedfs.sh
(`blob_stores` in tests/fixtures/blobs.py; `-k s3` runs one backend)."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgov import bootstrap
from gridgov.settings import load_settings
from photos.blobs import BlobStore, is_name
from photos.files import FileBlobStore
from photos.memory import MemoryBlobStore
from photos.s3 import S3BlobStore
from tests.fixtures.blobs import BlobStores, require_s3

A = hashlib.sha256(b"a").hexdigest()
B = hashlib.sha256(b"b").hexdigest()
EVERY_BYTE = b" \t\r\n" + bytes(range(256)) * 4 + "线索 ✓".encode() + b"\x00\r\n "

BAD_NAMES = ["", A.upper(), A[:-1], A + "0", "g" * 64, A + ".jpg", A + ".thumb.thumb", A + ".THUMB", A + "/",
             "/" + A, "../" + A, A[:2] + "/" + A[2:], "..", ".", A + "\x00", A + "\n", " " + A, f"{A}/../{B}",
             "ａ" * 64, "٣" * 64]


def names_of(digests: st.SearchStrategy[bytes]) -> st.SearchStrategy[str]:
    """Blob names from a small pool of digests, so puts collide and deletes hit."""
    return st.tuples(digests, st.booleans()).map(
        lambda d: hashlib.sha256(d[0]).hexdigest() + (".thumb" if d[1] else ""))


NAMES = names_of(st.binary(max_size=1))


def test_a_put_blob_is_got_back(blob_store: BlobStore) -> None:
    store = blob_store
    store.put(A, b"photo")
    store.put(A + ".thumb", b"thumb")
    assert store.get(A) == b"photo"
    assert store.get(A + ".thumb") == b"thumb"


def test_a_second_put_of_a_name_is_a_no_op(blob_store: BlobStore) -> None:
    store = blob_store
    store.put(A, b"first")
    store.put(A, b"second")
    assert store.get(A) == b"first"
    assert sorted(store.names()) == [A]


def test_a_missing_name_is_none(blob_store: BlobStore) -> None:
    store = blob_store
    assert store.get(A) is None
    store.put(A, b"x")
    assert store.get(A + ".thumb") is None and store.get(B) is None


def test_delete_forgets_and_is_idempotent(blob_store: BlobStore) -> None:
    store = blob_store
    store.put(A, b"x")
    store.put(B, b"y")
    store.delete(A)
    store.delete(A)
    store.delete(hashlib.sha256(b"never").hexdigest())
    assert store.get(A) is None and store.get(B) == b"y"
    assert list(store.names()) == [B]
    store.put(A, b"again")  # a deleted name can be kept anew
    assert store.get(A) == b"again"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_name_is_refused_by_every_method(blob_store: BlobStore, name: str) -> None:
    store = blob_store
    for call in (lambda: store.put(name, b"x"), lambda: store.get(name), lambda: store.delete(name)):
        with pytest.raises(ValueError):
            call()
    assert list(store.names()) == []


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=70) | st.from_regex(r"[0-9a-fA-F./]{60,72}", fullmatch=True))
def test_any_name_but_a_blob_name_is_refused(blob_store: BlobStore, name: str) -> None:
    """One store for every example: it must stay empty."""
    if is_name(name):
        return
    store = blob_store
    with pytest.raises(ValueError):
        store.put(name, b"x")
    assert list(store.names()) == []


def test_a_large_blob_round_trips(blob_store: BlobStore) -> None:
    store = blob_store
    data = os.urandom(10 * 1024 * 1024)
    store.put(A, data)
    got = store.get(A)
    assert got is not None and len(got) == len(data) and hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


def test_the_bytes_are_kept_byte_for_byte(blob_store: BlobStore) -> None:
    """No newline translation, no trimming, no charset: every byte value, and none."""
    store = blob_store
    store.put(A, EVERY_BYTE)
    store.put(B, b"")
    assert store.get(A) == EVERY_BYTE
    assert store.get(B) == b""


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(puts=st.lists(st.tuples(NAMES, st.binary(max_size=64)), max_size=8),
       deletes=st.lists(NAMES, max_size=4), more=st.lists(st.tuples(NAMES, st.binary(max_size=64)), max_size=4))
def test_names_are_exactly_what_was_put_and_not_deleted(blob_stores: BlobStores, puts: list[tuple[str, bytes]],
                                                        deletes: list[str], more: list[tuple[str, bytes]]) -> None:
    store, model = blob_stores(), {}  # type: ignore[var-annotated]
    for name, data in puts:
        store.put(name, data)
        model.setdefault(name, data)
    for name in deletes:
        store.delete(name)
        model.pop(name, None)
    for name, data in more:
        store.put(name, data)
        model.setdefault(name, data)
    assert sorted(store.names()) == sorted(model)
    assert {name: store.get(name) for name in model} == model


def test_a_blob_is_older_than_a_time_after_its_put_and_younger_than_one_before(blob_store: BlobStore) -> None:
    """The sweep's question (an orphan is removed only once a day old): minutes either side, for an S3
    server's clock a little off the machine's."""
    store = blob_store
    before = datetime.now(timezone.utc) - timedelta(minutes=5)
    store.put(A, b"x")
    store.put(A + ".thumb", b"y")
    after = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert list(store.names_older_than(before)) == []
    assert sorted(store.names_older_than(after)) == [A, A + ".thumb"]
    store.delete(A)
    assert list(store.names_older_than(after)) == [A + ".thumb"]


def test_an_age_needs_an_aware_time(blob_store: BlobStore) -> None:
    store = blob_store
    store.put(A, b"x")
    with pytest.raises(ValueError):
        list(store.names_older_than(datetime.now()))


# --- one backend's own ------------------------------------------------------------


def test_the_file_store_shards_and_lists_only_whole_blobs(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    store.put(A, b"x")
    assert (tmp_path / A[:2] / A[2:4] / A).read_bytes() == b"x"
    # What a crash mid-put leaves, and a stray file: neither is a blob.
    (tmp_path / A[:2] / A[2:4] / ".tmp-abc123").write_bytes(b"half")
    (tmp_path / A[:2] / A[2:4] / "notes.txt").write_bytes(b"?")
    (tmp_path / "README").write_bytes(b"?")
    assert list(store.names()) == [A]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted([A, ".tmp-abc123", "notes.txt",
                                                                                 "README"])


def test_the_s3_store_makes_its_bucket_when_missing() -> None:
    s3 = require_s3()
    bucket = f"gridgov-new-{uuid.uuid4().hex[:8]}"
    store = S3BlobStore(bucket=bucket, **s3)
    try:
        store.put(A, b"x")
        assert store.get(A) == b"x"
        assert S3BlobStore(bucket=bucket, **s3).get(A) == b"x"  # a second process finds it made
    finally:
        store.delete(A)
        store._s3.delete_bucket(Bucket=bucket)


def test_the_composition_root_chooses_the_store(tmp_path: Path) -> None:
    files = bootstrap.blob_store(load_settings({"GRIDGOV_BLOBS_DIR": str(tmp_path / "photos")}))
    assert isinstance(files, FileBlobStore) and files.root == tmp_path / "photos"
    assert load_settings({}).GRIDGOV_BLOBS_DIR == "var/photos"
    s3 = require_s3()
    store = bootstrap.blob_store(load_settings({"GRIDGOV_BLOBS": "s3", "GRIDGOV_S3_ENDPOINT": s3["endpoint"],
                                      "GRIDGOV_S3_BUCKET": "gridgov-tests", "GRIDGOV_S3_ACCESS_KEY": s3["access_key"],
                                      "GRIDGOV_S3_SECRET_KEY": s3["secret_key"]}))
    assert isinstance(store, S3BlobStore) and store.bucket == "gridgov-tests"


def test_the_memory_store_tells_ages_by_its_clock() -> None:
    now = [datetime(2026, 11, 2, tzinfo=timezone.utc)]
    store = MemoryBlobStore(now=lambda: now[0])
    store.put(A, b"x")
    now[0] += timedelta(hours=2)
    store.put(A, b"again")  # a no-op: the blob is as old as its first put
    store.put(B, b"y")
    assert list(store.names_older_than(now[0] - timedelta(hours=1))) == [A]
    store.delete(A)
    store.put(A, b"anew")  # kept anew: young again
    assert list(store.names_older_than(now[0] - timedelta(hours=1))) == []
