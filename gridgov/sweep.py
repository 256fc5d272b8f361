"""The engine's own sweep: the commands nobody gives by hand, given as the engine.

- Holds whose time ran out are ended (ExpireRedemption): the points and the stock
  come back.
- Task claims whose time ran out are released (ExpireClaim): the board already
  shows them open, and a rider may claim them; the release puts it in the log.
- At a month's end, each district's points expiry policy is applied (ExpireOldPoints)
  to every rider of the district who has points.
- Photos uploaded more than a day ago and never cited as evidence are removed
  (RemovePhoto): the event first, then their key and bytes (application/photos.py).
- Photos' bytes no upload in the log names (sealed and put, then the save of
  PhotoUploaded failed or the process died) are removed with their key once a day
  old: younger, the upload may still be saving. No event: the log never knew them.

Candidates come from the read models, which may be a little behind; each command
decides on the current state, so a hold confirmed meanwhile is refused and skipped,
and a month swept twice expires nothing the second time.

`Sweep` is what `gridgov sweep` runs round after round, built by gridgov.bootstrap.sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable
from uuid import UUID

from domain import commands as c
from domain import errors
from domain.events import Actor, Role
from domain.photos import Photo
from domain.points_policy import PointsPolicy
from application import photos
from application.service import GridGovernance
from application.unit_of_work import UnitOfWork
from projections import points
from projections.board import lapsed_claims
from projections.photos import kept_among, never_cited
from projections.rewards import lapsed_holds
from projections.stores import ReadStore

ENGINE = Actor(id="engine", role=Role.SYSTEM)
# Long enough to report the clue the photo was taken for, however slow the day.
PHOTO_GRACE = timedelta(days=1)


@dataclass
class Swept:
    holds_expired: int = 0
    claims_released: int = 0
    points_expired: int = 0
    photos_removed: int = 0
    orphans_removed: int = 0  # photos' bytes and key no upload named
    riders_checked: int = 0
    skipped: int = 0  # refused on the current state (the read model was behind)


def due_holds(store: ReadStore, now: datetime) -> list[UUID]:
    return sorted(UUID(r) for r in lapsed_holds(store, now))


def sweep_holds(app: GridGovernance, store: ReadStore) -> Swept:
    done, skipped = _give_each(app, [c.ExpireRedemption(redemption_id=r) for r in due_holds(store, app.clock.now())])
    return Swept(holds_expired=done, skipped=skipped)


def due_claims(store: ReadStore, now: datetime) -> list[UUID]:
    return [UUID(task) for task in lapsed_claims(store, now)]


def sweep_claims(app: GridGovernance, store: ReadStore) -> Swept:
    done, skipped = _give_each(app, [c.ExpireClaim(task_id=t) for t in due_claims(store, app.clock.now())])
    return Swept(claims_released=done, skipped=skipped)


def _give_each(app: GridGovernance, commands: list[c.Command]) -> tuple[int, int]:
    """Give each command as the engine: how many did something, how many were skipped
    because the current state had moved on (the read model was behind)."""
    done = skipped = 0
    for command in commands:
        try:
            did = app.execute(command, ENGINE).result.get("released", True)  # ExpireClaim says if it released
        except errors.DomainError:
            did = False
        done, skipped = (done + 1, skipped) if did else (done, skipped + 1)
    return done, skipped


def sweep_photos(app: GridGovernance, store: ReadStore, grace: timedelta = PHOTO_GRACE) -> Swept:
    """Remove the photos uploaded before `grace` ago and never cited. A report citing one
    meanwhile wins on the photo's stream: the removal is refused and the photo kept."""
    swept = Swept()
    for sha256 in never_cited(store, app.clock.now() - grace):
        try:
            app.execute(c.RemovePhoto(sha256=sha256, reason="never cited as evidence"), ENGINE)
        except errors.DomainError:
            swept.skipped += 1
            continue
        try:
            photos.forget(app, sha256)
        except errors.PhotoStoreUnavailable:
            pass  # its key is gone (forget shreds it first): what the store still holds is noise
        swept.photos_removed += 1
    swept.orphans_removed = sweep_orphan_blobs(app, store, grace)
    return swept


def sweep_orphan_blobs(app: GridGovernance, store: ReadStore, grace: timedelta = PHOTO_GRACE) -> int:
    """Remove the blobs written before `grace` ago that no kept photo names, with their key (the key
    store's "photo" kind, owned by the photo's stream id): how many photos' worth. The read model
    tells first which are a kept photo's; each other one is asked of the photo's own stream, since
    the read model may be behind, so a photo the log holds is never taken for an orphan."""
    try:
        with photos.store_answering():
            old = sorted({name.removesuffix(photos.THUMB) for name in app.blobs.names_older_than(
                app.clock.now() - grace)})
    except errors.PhotoStoreUnavailable:
        return 0  # the next round
    removed = 0
    for sha256 in sorted(set(old) - kept_among(store, old)):
        if UnitOfWork(app).get(Photo, Photo.id_for(sha256)).kept:
            continue  # uploaded and saved: the read model is behind
        try:
            photos.forget(app, sha256)
        except errors.PhotoStoreUnavailable:
            pass  # its key is gone (forget shreds it first): what the store still holds is noise
        removed += 1
    return removed


def riders_with_points(store: ReadStore) -> list[tuple[UUID, list[str]]]:
    """Riders with points available, and the districts they have been in."""
    return [(UUID(rider), districts) for rider, districts in points.riders_with_points(store)]


def sweep_points(app: GridGovernance, store: ReadStore, month: str,
                 progress: Callable[[int, int], None] = lambda done, total: None) -> Swept:
    """Apply every district's policy for `month`, which must have ended."""
    swept, policies = Swept(), {}
    riders = riders_with_points(store)
    for n, (rider, districts) in enumerate(riders, 1):
        for district in districts:
            if district not in policies:
                policies[district] = UnitOfWork(app).get(PointsPolicy, PointsPolicy.id_for(district)).months
            if not policies[district]:
                continue
            try:
                outcome = app.execute(c.ExpireOldPoints(rider_id=rider, district=district, month=month), ENGINE)
                swept.points_expired += outcome.result["expired"]
            except errors.DomainError:
                swept.skipped += 1
        swept.riders_checked = n
        if n % 500 == 0 or n == len(riders):
            progress(n, len(riders))
    return swept


@dataclass
class Sweep:
    """The sweep over one application and read store, as gridgov.bootstrap.sweep builds
    it: with a `feed` (embedded), the read models are caught up first, since nothing
    else feeds them in this process; with Kafka, the consumers keep them."""

    app: GridGovernance
    store: ReadStore
    feed: Any = None  # projections.engine.feed.LogFeed

    def catch_up(self) -> None:
        if self.feed is not None:
            self.feed.catch_up()

    def holds(self) -> Swept:
        return sweep_holds(self.app, self.store)

    def claims(self) -> Swept:
        return sweep_claims(self.app, self.store)

    def photos(self) -> Swept:
        return sweep_photos(self.app, self.store)

    def points(self, month: str, progress: Callable[[int, int], None] = lambda done, total: None) -> Swept:
        return sweep_points(self.app, self.store, month, progress)
