"""The engine's sweep: holds whose time ran out are ended, claims released, and a district's points
expiry policy is applied at month end, from what the read models say, with each
command deciding on the current state; photos' bytes no upload in the log names (an upload whose
save failed after sealing) are removed with their key once a day old."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from typer.testing import CliRunner

from api.cli import app as cli
from application import photos as kept
from domain import commands as c
from domain.clues import Category
from domain.photos import Photo, PhotoUploaded
from domain.points import PointsAccount
from domain.tasks import ClaimReleased, ReleaseReason
from application.unit_of_work import UnitOfWork
from gridgov.bootstrap import log_feed
from gridgov.sweep import sweep_claims, sweep_holds, sweep_photos, sweep_points
from projections.rewards import redemptions
from projections.stores import ReadStore
from tests.fixtures.stores import new_store
from tests.fixtures.world import WENJIANG_CENTRE, World, photo, rider_actor, upload_of


@pytest.fixture
def tmp_store() -> Iterator[ReadStore]:
    store, cleanup = new_store("sqlite")
    yield store
    cleanup()


def test_the_sweep_ends_holds_whose_time_ran_out_and_only_those(world: World, tmp_store: ReadStore) -> None:
    grid, rider = world.scene()
    for _ in range(3):
        world.piece(grid, rider)  # 15 points
    canteen = world.partner()
    quick, slow = world.item(canteen, price=5, hold_minutes=30), world.item(canteen, price=5, hold_minutes=120)
    first = UUID(world.redeem(rider, quick).result["redemption_id"])
    late = UUID(world.redeem(rider, slow).result["redemption_id"])
    collected = world.redeem(rider, quick).result
    world.do(c.ConfirmRedemption(redemption_id=UUID(collected["redemption_id"]), code=collected["code"]), canteen)
    feed = log_feed(world.app, tmp_store)
    world.clock.advance(31 * 60)
    feed.catch_up()
    swept = sweep_holds(world.app, tmp_store)
    assert (swept.holds_expired, swept.skipped) == (1, 0)
    feed.catch_up()
    statuses = {UUID(r["redemption_id"]): r["status"] for r in redemptions(tmp_store, rider_id=str(rider))}
    assert statuses == {first: "expired", late: "held", UUID(collected["redemption_id"]): "confirmed"}
    assert UnitOfWork(world.app).get(PointsAccount, PointsAccount.id_for(rider)).available == 5


def test_a_month_end_sweep_expires_old_points_once(world: World, tmp_store: ReadStore) -> None:
    grid, rider = world.scene()
    world.piece(grid, rider)  # 5 points in November
    world.do(c.SetPointsPolicy(district=world.district, expire_after_months=1), world.admin)
    feed = log_feed(world.app, tmp_store)
    world.clock.advance(40 * 24 * 3600)  # December
    world.piece(grid, rider)  # 5 more, in December
    world.clock.advance(31 * 24 * 3600)  # January: December has ended; November's points are a month old
    feed.catch_up()
    assert sweep_points(world.app, tmp_store, "2026-12").points_expired == 5
    feed.catch_up()
    assert sweep_points(world.app, tmp_store, "2026-12").points_expired == 0
    assert UnitOfWork(world.app).get(PointsAccount, PointsAccount.id_for(rider)).available == 5


def test_gridgov_sweep_once_on_the_embedded_store(embedded) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["sweep"])
    assert result.exit_code == 0, result.output
    assert "holds ended" in result.output and "claims released" in result.output
    refused = CliRunner().invoke(cli, ["sweep", "--points-month", "2999-01"])
    assert refused.exit_code == 2 and "a month that has ended" in refused.output


def test_the_sweep_releases_claims_whose_time_ran_out_and_only_those(world: World, tmp_store: ReadStore) -> None:
    grid, rider = world.scene()
    lapsed, done, kept = world.task(grid), world.task(grid), world.task(grid, ttl=7200)
    for task in (lapsed, done, kept):
        world.claim(task, rider)
    world.complete(done, rider)
    feed = log_feed(world.app, tmp_store)
    world.clock.advance(3601)
    feed.catch_up()
    swept = sweep_claims(world.app, tmp_store)
    assert (swept.claims_released, swept.skipped) == (1, 0)
    released = [e for e in world.events() if isinstance(e, ClaimReleased)]
    assert [(e.originator_id, e.reason) for e in released] == [(lapsed, ReleaseReason.EXPIRED)]
    feed.catch_up()
    assert sweep_claims(world.app, tmp_store).claims_released == 0, "a released claim is not released again"


def unsaved_upload(world: World, rider: UUID, colour: tuple[int, int, int], monkeypatch: pytest.MonkeyPatch) -> str:
    """An upload whose save fails after the handler sealed the photo (the database away, a crash
    between the two): its sha256. The blobs and the key are kept; the log holds nothing."""
    def away(*aggregates: object, **kwargs: object) -> None:
        raise OSError("the event store went away")

    upload = upload_of(rider, colour)
    with monkeypatch.context() as m:
        m.setattr(world.app, "save", away)
        with pytest.raises(OSError):
            world.do(upload, rider_actor(rider))
    assert {upload.sha256, upload.sha256 + ".thumb"} <= set(world.app.blobs.names())
    assert world.app.photo_keys.get(Photo.id_for(upload.sha256)) is not None
    assert upload.sha256 not in {e.sha256 for e in world.events() if isinstance(e, PhotoUploaded)}
    return upload.sha256


def test_the_sweep_removes_bytes_and_key_no_upload_names_once_a_day_old(world: World, tmp_store: ReadStore,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    grid, rider = world.scene()
    feed = log_feed(world.app, tmp_store)
    feed.catch_up()  # and no more until the end: the read model is behind every upload below
    cited = photo(world, rider)
    world.do(c.ReportClue(rider_id=rider, grid_id=grid, category=Category.FIRE_HAZARD, text="楼道充电",
                          location=WENJIANG_CENTRE, evidence_hashes=(cited,)), rider_actor(rider))
    saved = photo(world, rider, (90, 90, 90))  # saved, never cited
    lost = unsaved_upload(world, rider, (40, 40, 200), monkeypatch)
    assert sweep_photos(world.app, tmp_store).orphans_removed == 0  # not a day yet: it may still be saving
    world.clock.advance(25 * 3600)
    young = unsaved_upload(world, rider, (10, 200, 10), monkeypatch)  # an upload still being saved, say
    swept = sweep_photos(world.app, tmp_store)
    # The read model knows none of these photos: the log says which are photos, and those stay.
    assert (swept.orphans_removed, swept.photos_removed) == (1, 0)
    assert set(world.app.blobs.names()) == {n + t for n in (cited, saved, young) for t in ("", ".thumb")}
    assert world.app.photo_keys.get(Photo.id_for(lost)) is None
    assert world.app.photo_keys.get(Photo.id_for(young)) is not None
    assert kept.picture(world.app, cited) is not None and kept.picture(world.app, saved) is not None
    feed.catch_up()
    swept = sweep_photos(world.app, tmp_store)
    assert (swept.orphans_removed, swept.photos_removed) == (0, 1)  # the never-cited one, as before
    assert set(world.app.blobs.names()) == {n + t for n in (cited, young) for t in ("", ".thumb")}
    world.clock.advance(25 * 3600)
    assert sweep_photos(world.app, tmp_store).orphans_removed == 1  # the young one, a day on
    assert set(world.app.blobs.names()) == {cited, cited + ".thumb"} and kept.picture(world.app, cited) is not None
