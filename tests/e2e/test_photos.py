"""Photos as evidence through HTTP, from upload to erasure: the type decided from the
bytes, bombs and oversize refused with nothing kept, metadata and appended tails
left behind, evidence only the rider's own uploads, a photo read in its clue's
scope, gone with its rider's key, swept when never cited."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import struct
import tracemalloc
import uuid
import zlib
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from application import photos as kept
from domain.events import Role, topics_of
from domain.photos import PhotoUploaded
from gridgov.sweep import sweep_photos
from photos import images
from tests.fixtures.http import Api, district, is_problem

GPS_IFD, MAKE = 0x8825, 0x010F
SPOT = {"lat": 30.6826, "lon": 103.8560}


def jpeg(width: int = 800, height: int = 600, **save: Any) -> bytes:
    image = Image.new("RGB", (width, height), (30, 120, 200))
    out = io.BytesIO()
    image.save(out, "JPEG", **save)
    return out.getvalue()


def with_gps() -> bytes:
    exif = Image.Exif()
    exif[MAKE] = "CameraMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (30.0, 40.0, 57.36), 3: "E", 4: (103.0, 51.0, 21.6)})
    return jpeg(exif=exif.tobytes())


def one_colour_png(side: int) -> bytes:
    """A real PNG of side×side pixels of one colour (1 bit deep), a few dozen KB on disk."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    row = b"\0" + b"\0" * ((side + 7) // 8)
    squeeze = zlib.compressobj(9)
    idat = b"".join(squeeze.compress(row) for _ in range(side)) + squeeze.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def upload(api: Api, headers: dict[str, str], data: bytes, name: str = "photo.jpg",
           kind: str = "image/jpeg") -> Any:
    return api.client.post("/v1/photos", files={"photo": (name, data, kind)}, headers=headers)


def scene(api: Api) -> dict[str, Any]:
    admin, grid, rider_id, rider = district(api, "patrol", 500, 100_000, "王五", "13800000002")
    return {"admin": admin, "grid": grid, "rider_id": rider_id, "rider": rider,
            "officer": api.token(Role.GRID_OFFICER, "officer-1", grids=[grid]),
            "auditor": api.token(Role.AUDITOR, "auditor-温江"),
            "stranger": api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"]),
            "other_officer": api.token(Role.GRID_OFFICER, "officer-9", grids=[str(uuid.uuid4())])}


def report(api: Api, s: dict[str, Any], hashes: list[str], status: int = 200, rider: str | None = None,
           headers: dict[str, str] | None = None) -> dict[str, Any]:
    return api.command("report-clue", {"rider_id": rider or s["rider_id"], "grid_id": s["grid"],
                                       "category": "fire_hazard", "text": "楼道充电", "location": SPOT,
                                       "evidence_hashes": hashes}, headers or s["rider"], status)


def stored(api: Api) -> tuple[set[str], int]:
    """What is kept: the blob store's names, and how many uploads the log holds."""
    app = api.engine.app
    return set(app.blobs.names()), len(app.eventlog.page(0, 10_000, topics_of([PhotoUploaded])))


def picture(api: Api, sha256: str, headers: dict[str, str], status: int = 200, **params: Any) -> Any:
    api.feed.catch_up()
    response = api.client.get(f"/v1/photos/{sha256}", headers=headers, params=params)
    assert response.status_code == status, response.text
    return response


def test_a_photo_is_kept_re_encoded_sealed_and_named_by_its_hash(api: Api) -> None:
    s = scene(api)
    answer = upload(api, s["rider"], with_gps(), name="IMG_0001.HEIC", kind="application/octet-stream")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["width"], body["height"]) == (800, 600) and len(body["sha256"]) == 64
    names, uploads = stored(api)
    assert names == {body["sha256"], body["sha256"] + ".thumb"} and uploads == 1
    sealed = api.engine.app.blobs.get(body["sha256"])
    assert not sealed.startswith(b"\xff\xd8") and b"CameraMaker" not in sealed  # ciphertext, not the JPEG
    shown = picture(api, body["sha256"], s["rider"])
    assert shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["content-security-policy"].startswith("default-src 'none'")
    assert shown.headers["cache-control"].startswith("private")
    assert hashlib.sha256(shown.content).hexdigest() == body["sha256"] and len(shown.content) == body["bytes"]
    opened = Image.open(io.BytesIO(shown.content))
    assert not opened.getexif() and b"Exif" not in shown.content and b"CameraMaker" not in shown.content
    thumb = Image.open(io.BytesIO(picture(api, body["sha256"], s["rider"], size="thumb").content))
    assert max(thumb.size) == 320
    again = upload(api, s["rider"], with_gps())
    assert again.status_code == 201 and again.json()["sha256"] == body["sha256"]
    assert stored(api)[1] == 1  # the same bytes again: nothing new


def test_a_non_image_named_jpg_is_refused_and_nothing_kept(api: Api) -> None:
    s = scene(api)
    for data in (b"<html><script>alert(1)</script></html>", b"GIF89a" + b"\0" * 100, jpeg()[:400]):
        answer = upload(api, s["rider"], data, name="photo.jpg")
        assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
        is_problem(answer.json(), "not-a-photo", 422)
    zh = api.client.post("/v1/photos", files={"photo": ("a.jpg", b"%PDF-1.7", "image/jpeg")},
                         headers={**s["rider"], "Accept-Language": "zh-CN"})
    assert zh.json()["title"] == "不是照片"
    assert stored(api) == (set(), 0)


def test_a_decompression_bomb_is_refused_and_nothing_kept(api: Api) -> None:
    s = scene(api)
    bomb = one_colour_png(20_000)
    assert len(bomb) < 200_000  # 400 million pixels, small on disk
    answer = upload(api, s["rider"], bomb, name="bomb.png", kind="image/png")
    is_problem(answer.json(), "too-many-pixels", 422)
    assert stored(api) == (set(), 0)


def test_a_60_mb_body_is_cut_at_the_limit_and_nothing_kept(api: Api) -> None:
    """Streamed into the app itself (the test client would read a body whole before sending it): the
    server stops reading at its limit, having held a fraction of it."""
    s = scene(api)
    chunk = b"\xff" * (1024 * 1024)
    boundary = "gridgov-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"big.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode()
    read, sent = [], []

    async def receive() -> dict[str, Any]:
        read.append(1)
        if len(read) == 1:
            return {"type": "http.request", "body": head, "more_body": True}
        return {"type": "http.request", "body": chunk, "more_body": len(read) < 61}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/photos", "raw_path": b"/v1/photos", "query_string": b"", "root_path": "",
             "server": ("testserver", 80), "client": ("127.0.0.1", 1234),
             "headers": [(b"host", b"testserver"), (b"authorization", s["rider"]["Authorization"].encode()),
                         (b"content-type", f"multipart/form-data; boundary={boundary}".encode())]}
    tracemalloc.start()
    try:
        asyncio.run(api.client.app(scope, receive, send))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent[0]["status"] == 413
    is_problem(json.loads(b"".join(m.get("body", b"") for m in sent[1:])), "body-too-large", 413)
    assert len(read) <= 12, f"read {len(read)} chunks of 1 MiB: the limit is 10 MiB"
    assert peak < 8 * 1024 * 1024, f"{peak} bytes held at the peak (the files spool to disk past 1 MiB)"
    announced = api.client.post("/v1/photos", content=b"x" * 100, headers={
        **s["rider"], "Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(60 << 20)})
    assert announced.status_code == 413
    assert stored(api) == (set(), 0)
    # Every other route keeps its 64 KiB.
    big_json = api.client.post("/v1/commands/report-clue", content=b"{" + b" " * 70_000 + b"}",
                               headers={**s["rider"], "Content-Type": "application/json"})
    assert big_json.status_code == 413


def test_a_polyglot_keeps_none_of_its_tail(api: Api) -> None:
    s = scene(api)
    tail = b"PK\x03\x04" + b"\0" * 26 + b"evil.html" + b"<html><script>alert(document.cookie)</script></html>"
    answer = upload(api, s["rider"], jpeg() + tail)
    assert answer.status_code == 201
    shown = picture(api, answer.json()["sha256"], s["rider"]).content
    assert b"PK\x03\x04" not in shown and b"<script" not in shown and shown.endswith(b"\xff\xd9")


def test_only_riders_upload(api: Api) -> None:
    s = scene(api)
    for headers in (s["officer"], s["admin"], s["auditor"]):
        is_problem(upload(api, headers, jpeg()).json(), "not-allowed", 403)
    assert stored(api) == (set(), 0)


def test_evidence_is_a_photo_the_same_rider_uploaded(api: Api) -> None:
    s = scene(api)
    mine = upload(api, s["rider"], jpeg()).json()["sha256"]
    other_id = str(uuid.uuid4())
    other = api.token(Role.RIDER, other_id, [])
    api.command("register-rider", {"rider_id": other_id, "platform": "eleme", "station": "温江站", "name": "李四",
                                   "phone": "13900000000"}, other)
    api.command("join-grid", {"rider_id": other_id, "grid_id": s["grid"]}, other)
    theirs = upload(api, other, jpeg(640, 480)).json()["sha256"]
    is_problem(report(api, s, [theirs], 422), "evidence-not-uploaded", 422)
    is_problem(report(api, s, ["ab" * 32], 422), "evidence-not-uploaded", 422)
    zh = api.client.post("/v1/commands/report-clue", json={
        "rider_id": s["rider_id"], "grid_id": s["grid"], "category": "fire_hazard", "text": "楼道充电",
        "location": SPOT, "evidence_hashes": [theirs]}, headers={**s["rider"], "Accept-Language": "zh-CN"})
    assert zh.json()["title"] == "证据照片未上传"
    five = [upload(api, s["rider"], jpeg(100 + n, 100)).json()["sha256"] for n in range(5)]
    assert report(api, s, five, 422)["type"].endswith("invalid-input")
    clue = report(api, s, [mine, *five[:3]])["result"]["clue_id"]
    task = api.command("accept-clue", {"clue_id": clue, "kind": "fire-check", "rate_code": "patrol"},
                       s["officer"])["result"]["task_id"]
    api.command("claim-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    refused = api.command("complete-task", {"task_id": task, "rider_id": s["rider_id"], "note": "已清理",
                                            "evidence_hashes": [theirs]}, s["rider"], 422)
    is_problem(refused, "evidence-not-uploaded", 422)
    api.command("complete-task", {"task_id": task, "rider_id": s["rider_id"], "note": "已清理",
                                  "evidence_hashes": [five[4]]}, s["rider"])
    about = api.query(f"/v1/photos/{five[4]}/about", s["officer"])
    assert [(c["cited_by"], c["ref_id"]) for c in about["cites"]] == [("task", task)]


def test_a_photo_is_read_in_the_scope_of_what_cites_it(api: Api) -> None:
    s = scene(api)
    cited = upload(api, s["rider"], jpeg()).json()["sha256"]
    loose = upload(api, s["rider"], jpeg(500, 500)).json()["sha256"]
    report(api, s, [cited])
    for headers in (s["rider"], s["officer"], s["admin"], s["auditor"]):
        picture(api, cited, headers)
    for headers in (s["stranger"], s["other_officer"], api.token(Role.RIDER, str(uuid.uuid4()), [])):
        is_problem(picture(api, cited, headers, 404).json(), "photo-not-found", 404)
    # Not yet cited: its uploader's alone.
    picture(api, loose, s["rider"])
    is_problem(picture(api, loose, s["officer"], 404).json(), "photo-not-found", 404)
    partner = api.token(Role.PARTNER, str(uuid.uuid4()))
    assert picture(api, cited, partner, 403).json()["type"].endswith("out-of-scope")


def test_an_erased_riders_photos_no_longer_decode(api: Api) -> None:
    s = scene(api)
    sha = upload(api, s["rider"], with_gps()).json()["sha256"]
    report(api, s, [sha])
    sealed = api.engine.app.blobs.get(sha)
    erased = api.command("erase-personal-data", {"rider_id": s["rider_id"], "reason": "骑手申请删除"}, s["rider"])
    assert erased["result"]["photos_shredded"] == 1
    gone = picture(api, sha, s["officer"], 404).json()
    is_problem(gone, "photo-erased", 404)
    zh = api.client.get(f"/v1/photos/{sha}", headers={**s["officer"], "Accept-Language": "zh-CN"}).json()
    assert zh["title"] == "照片已删除"
    assert kept.picture(api.engine.app, sha) is None and api.engine.app.blobs.get(sha) == sealed  # noise now
    about = api.query(f"/v1/photos/{sha}/about", s["officer"])  # the hash stays in the log
    assert about["sha256"] == sha


def test_photos_never_cited_are_swept_after_a_day(api: Api) -> None:
    s = scene(api)
    cited = upload(api, s["rider"], jpeg()).json()["sha256"]
    loose = upload(api, s["rider"], jpeg(500, 500)).json()["sha256"]
    report(api, s, [cited])
    engine = api.engine
    engine.feed.catch_up()
    assert sweep_photos(engine.app, engine.store).photos_removed == 0  # not a day yet
    api.clock.advance(timedelta(hours=25).total_seconds())
    engine.feed.catch_up()
    swept = sweep_photos(engine.app, engine.store)
    assert swept.photos_removed == 1
    names, _ = stored(api)
    assert names == {cited, cited + ".thumb"}
    assert engine.app.photo_keys.get(kept.Photo.id_for(loose)) is None
    is_problem(picture(api, loose, s["rider"], 404).json(), "photo-not-found", 404)
    picture(api, cited, s["rider"])
    is_problem(report(api, s, [loose], 422), "evidence-not-uploaded", 422)
    engine.feed.catch_up()
    assert sweep_photos(engine.app, engine.store).photos_removed == 0  # swept once


def test_an_upload_whose_save_failed_leaves_nothing_a_day_on(api: Api) -> None:
    """The photo sealed and put, then the save of PhotoUploaded failing (the database away): bytes and a key
    no event names. The sweep removes them once a day old (the file's mtime: set here to the test clock's
    time of the upload, since the files are written at the machine's), never a cited photo's."""
    s = scene(api)
    cited = upload(api, s["rider"], jpeg()).json()["sha256"]
    report(api, s, [cited])
    app = api.engine.app

    def away(*aggregates: object, **kwargs: object) -> None:
        raise OSError("the event store went away")

    app.save = away  # type: ignore[method-assign]
    try:
        failed = upload(api, s["rider"], jpeg(500, 500))
    finally:
        del app.save
    assert failed.status_code == 500
    names, uploads = stored(api)
    lost = (names - {cited, cited + ".thumb"}).pop().removesuffix(".thumb")
    assert names == {n + t for n in (cited, lost) for t in ("", ".thumb")} and uploads == 1
    assert app.photo_keys.get(kept.Photo.id_for(lost)) is not None
    written = api.clock.now().timestamp()
    for name in names:
        os.utime(app.blobs.path(name), (written, written))
    engine = api.engine
    engine.feed.catch_up()
    assert sweep_photos(engine.app, engine.store).orphans_removed == 0  # not a day yet
    api.clock.advance(timedelta(hours=25).total_seconds())
    swept = sweep_photos(engine.app, engine.store)
    assert (swept.orphans_removed, swept.photos_removed) == (1, 0)
    assert stored(api)[0] == {cited, cited + ".thumb"}
    assert app.photo_keys.get(kept.Photo.id_for(lost)) is None
    picture(api, cited, s["rider"])


ANY_BYTES = st.one_of(
    st.binary(max_size=3000),
    st.builds(lambda w, h, fmt, cut: _image(w, h, fmt)[:cut] if cut else _image(w, h, fmt),
              st.integers(1, 2400), st.integers(1, 40), st.sampled_from(["JPEG", "PNG", "WEBP", "GIF", "BMP"]),
              st.one_of(st.none(), st.integers(0, 300))),
    st.builds(lambda w, h, tail: _image(w, h, "JPEG") + tail, st.integers(1, 50), st.integers(1, 50),
              st.binary(max_size=300)),
)


def _image(width: int, height: int, fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (width % 256, height % 256, 90)).save(out, fmt)
    return out.getvalue()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=ANY_BYTES)
def test_any_bytes_are_a_clean_jpeg_or_a_problem_with_nothing_kept(api: Api, data: bytes) -> None:
    rider_id = str(uuid.uuid4())
    rider = api.token(Role.RIDER, rider_id, [])
    api.command("register-rider", {"rider_id": rider_id, "platform": "meituan", "station": "温江站",
                                   "name": "赵六", "phone": "13700000000"}, rider)
    before = stored(api)
    answer = upload(api, rider, data)
    if answer.status_code != 201:
        assert 400 <= answer.status_code < 500 and answer.headers["content-type"] == "application/problem+json"
        assert stored(api) == before
        return
    shown = picture(api, answer.json()["sha256"], rider).content
    opened = Image.open(io.BytesIO(shown))
    opened.load()
    assert opened.format == "JPEG" and max(opened.size) <= images.LONG_SIDE and not opened.getexif()


def test_a_stale_blob_under_the_name_never_hides_a_new_upload(api: Api) -> None:
    """A blob left under a photo's name by an earlier key (a removal whose delete failed, a blob
    folder shared with another store) is replaced, not kept: the new upload reads back."""
    import os

    from application.personal import seal_bytes

    s = scene(api)
    data = jpeg(700, 500)
    expected = images.reencode(data)
    api.engine.app.blobs.put(expected.sha256, seal_bytes(os.urandom(32), expected.jpeg))
    api.engine.app.blobs.put(expected.sha256 + ".thumb", seal_bytes(os.urandom(32), expected.thumb))
    assert upload(api, s["rider"], data).status_code == 201
    assert picture(api, expected.sha256, s["rider"]).content == expected.jpeg
    assert picture(api, expected.sha256, s["rider"], size="thumb").content == expected.thumb
    # And a blob that does not open with the photo's key is a photo gone, in words: never a 500.
    api.engine.app.blobs.delete(expected.sha256)
    api.engine.app.blobs.put(expected.sha256, seal_bytes(os.urandom(32), expected.jpeg))
    is_problem(picture(api, expected.sha256, s["rider"], 404).json(), "photo-erased", 404)


def test_a_photo_cited_in_two_districts_shows_each_only_its_own_citations(api: Api) -> None:
    s = scene(api)
    sha = upload(api, s["rider"], jpeg()).json()["sha256"]
    report(api, s, [sha])
    other_admin = s["stranger"]  # 锦江's
    grid = api.command("register-grid", {"district": "锦江", "street": "春熙路街道", "community": "红星社区",
                                         "name": "春熙-1"}, other_admin)["result"]["grid_id"]
    api.command("join-grid", {"rider_id": s["rider_id"], "grid_id": grid}, s["rider"])
    api.command("report-clue", {"rider_id": s["rider_id"], "grid_id": grid, "category": "fire_hazard",
                                "text": "楼道充电", "location": {"lat": 30.66, "lon": 104.08},
                                "evidence_hashes": [sha]}, s["rider"])
    ours = api.query(f"/v1/photos/{sha}/about", s["admin"])
    theirs = api.query(f"/v1/photos/{sha}/about", other_admin)
    assert ours["districts"] == ["温江"] and {c["district"] for c in ours["cites"]} == {"温江"}
    assert theirs["districts"] == ["锦江"] and {c["district"] for c in theirs["cites"]} == {"锦江"}
    assert len(api.query(f"/v1/photos/{sha}/about", s["rider"])["cites"]) == 2  # the rider sees its own whole


def test_a_blob_store_away_is_a_503_in_words_and_nothing_recorded(api: Api) -> None:
    """The S3 server stopped mid-run (bench/photos.py met it): a 503 problem saying so, never a 500."""
    s = scene(api)
    sha = upload(api, s["rider"], jpeg()).json()["sha256"]
    report(api, s, [sha])

    class Away(type(api.engine.app.blobs)):  # type: ignore[misc]
        def put(self, name: str, data: bytes) -> None:
            raise ConnectionRefusedError("the store is away")

        def get(self, name: str) -> bytes | None:
            raise ConnectionRefusedError("the store is away")

    kept_blobs = api.engine.app.blobs
    api.engine.app.blobs = Away.__new__(Away)
    api.engine.app.blobs.__dict__.update(kept_blobs.__dict__)
    try:
        before = stored(api)[1]
        refused = upload(api, s["rider"], jpeg(640, 480))
        assert refused.status_code == 503, refused.text
        is_problem(refused.json(), "photo-store-unavailable", 503)
        assert stored(api)[1] == before  # no event for a photo not kept
        is_problem(picture(api, sha, s["rider"], 503).json(), "photo-store-unavailable", 503)
        zh = api.client.get(f"/v1/photos/{sha}", headers={**s["rider"], "Accept-Language": "zh-CN"}).json()
        assert zh["title"] == "照片存储暂不可用"
    finally:
        api.engine.app.blobs = kept_blobs


def test_a_browser_revalidates_each_time_so_an_erasure_reaches_its_cache(api: Api) -> None:
    """Cache-Control: private, no-cache, with the hash as the ETag: a 304 without the bytes while the
    photo stands, and the erasure's 404 at once after (a max-age would have shown it for an hour)."""
    s = scene(api)
    sha = upload(api, s["rider"], jpeg()).json()["sha256"]
    first = picture(api, sha, s["rider"])
    assert first.headers["cache-control"] == "private, no-cache" and first.headers["etag"] == f'"{sha}"'
    again = api.client.get(f"/v1/photos/{sha}", headers={**s["rider"], "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    thumb = picture(api, sha, s["rider"], size="thumb")
    assert thumb.headers["etag"] == f'"{sha}.thumb"'
    api.command("erase-personal-data", {"rider_id": s["rider_id"], "reason": "骑手申请删除"}, s["rider"])
    gone = api.client.get(f"/v1/photos/{sha}", headers={**s["rider"], "If-None-Match": first.headers["etag"]})
    assert gone.status_code == 404 and gone.json()["type"].endswith("photo-erased")
