"""Photos as evidence: one stream per photo, named by the SHA-256 of the JPEG kept.

The bytes are elsewhere (a blob store), sealed with the photo's own key; the log
keeps the hash, which proves what existed after the key is gone. A photo is cited
as evidence by its uploader only (a clue's report, a task's completion): the
citation is an event on the photo's own stream, so a sweep that would remove a
photo never cited and a report citing it cannot both win.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event
from domain.ids import derived_id


class CitedBy(StrEnum):
    CLUE = "clue"
    TASK = "task"


class PhotoEvent(Event):
    aggregate = "photos"


class PhotoUploaded(PhotoEvent):
    sha256: str
    thumb_sha256: str
    rider_id: UUID
    bytes: int
    width: int
    height: int


class PhotoCited(PhotoEvent):
    """Given as evidence by its uploader: in a clue's report or a task's completion."""

    sha256: str
    by: CitedBy
    ref_id: UUID
    district: str
    grid_id: UUID | None = None


class PhotoRemoved(PhotoEvent):
    """Never cited, and removed by the engine's sweep: its bytes and key are gone."""

    sha256: str
    reason: str


class Photo(Aggregate, events=PhotoEvent):
    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.sha256 = ""
        self.rider_id: UUID | None = None
        self.cited = False
        self.removed = False

    @staticmethod
    def id_for(sha256: str) -> UUID:
        return derived_id("photo", sha256)

    @property
    def kept(self) -> bool:
        return self.exists and not self.removed

    def upload(self, ctx: Context, *, sha256: str, thumb_sha256: str, rider_id: UUID, size: int, width: int,
               height: int) -> bool:
        """False when this rider had already given these very bytes: nothing new happens."""
        if self.kept:
            if self.rider_id != rider_id:
                raise errors.PhotoOfAnother("the same photo was given by another rider; take a photo of your own",
                                            sha256=sha256)
            return False
        self._trigger(ctx, PhotoUploaded, sha256=sha256, thumb_sha256=thumb_sha256, rider_id=rider_id, bytes=size,
                      width=width, height=height)
        return True

    def require_evidence_of(self, rider_id: UUID, sha256: str) -> None:
        if not self.kept or self.rider_id != rider_id:
            raise errors.EvidenceNotUploaded(f"photo {sha256} was not uploaded by this rider: upload it first "
                                             "(POST /v1/photos), then give its sha256", sha256=sha256)

    def cite(self, ctx: Context, rider_id: UUID, by: CitedBy, ref_id: UUID, district: str,
             grid_id: UUID | None) -> None:
        self.require_evidence_of(rider_id, self.sha256)
        self._trigger(ctx, PhotoCited, sha256=self.sha256, by=by, ref_id=ref_id, district=district, grid_id=grid_id)

    def remove(self, ctx: Context, reason: str) -> None:
        """Only a photo kept and never cited: evidence stays."""
        if not self.kept:
            raise errors.PhotoNotFound(f"no photo {self.sha256 or self.id} is kept", sha256=self.sha256)
        if self.cited:
            raise errors.PhotoIsEvidence(f"photo {self.sha256} is cited as evidence and stays", sha256=self.sha256)
        self._trigger(ctx, PhotoRemoved, sha256=self.sha256, reason=reason)

    def _when(self, event: Event) -> None:
        match event:
            case PhotoUploaded():
                self.sha256, self.rider_id = event.sha256, event.rider_id
                self.cited = self.removed = False
            case PhotoCited():
                self.cited = True
            case PhotoRemoved():
                self.removed = True
