"""Photos' bytes beside their events: sealed into the blob store, unsealed out of
it, shredded with their key.

A photo's JPEG and thumbnail are sealed with the photo's own key (the key store's
"photo" kind, owned by the photo's stream id) and kept in the blob store under the
JPEG's SHA-256 (the thumbnail as `<sha256>.thumb`). The hash is of the plaintext
JPEG, so the log proves which picture it was; without the key the blob is noise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from uuid import UUID

from cryptography.exceptions import InvalidTag

from application.personal import seal_bytes, unseal_bytes
from domain import errors
from domain.events import topics_of
from domain.photos import Photo, PhotoUploaded
from eventlog import stored_event

if TYPE_CHECKING:
    from application.service import GridGovernance

THUMB = ".thumb"
PAGE = 1000


def blob_name(sha256: str, thumb: bool = False) -> str:
    return sha256 + (THUMB if thumb else "")


def keep(app: GridGovernance, sha256: str, jpeg: bytes, thumb: bytes) -> None:
    """Seal both pictures with the photo's key (made now) and put them in the store. Whatever
    the name held is dropped first: a blob sealed with an earlier key (a removal whose delete
    failed, a folder another store shares) would otherwise stay, since a put never overwrites."""
    key = app.photo_keys.get_or_create(Photo.id_for(sha256))
    with store_answering():
        for name, picture in ((blob_name(sha256), jpeg), (blob_name(sha256, thumb=True), thumb)):
            app.blobs.delete(name)
            app.blobs.put(name, seal_bytes(key, picture))


def picture(app: GridGovernance, sha256: str, thumb: bool = False) -> bytes | None:
    """The JPEG (or its thumbnail) as uploaded, or None once its key or its blob is gone."""
    key = app.photo_keys.get(Photo.id_for(sha256))
    if key is None:
        return None
    with store_answering():
        sealed = app.blobs.get(blob_name(sha256, thumb))
    if sealed is None:
        return None
    try:
        return unseal_bytes(key, sealed)
    except InvalidTag:  # sealed with another key than the photo's: it cannot be this photo
        return None


def erased(app: GridGovernance, sha256: str) -> bool:
    """Whether the photo's key is gone: shredded (erasure) or never made."""
    return app.photo_keys.get(Photo.id_for(sha256)) is None


def forget(app: GridGovernance, sha256: str) -> None:
    """The key first: once it is gone the blobs are noise, even if deleting them fails."""
    app.photo_keys.delete(Photo.id_for(sha256))
    with store_answering():
        app.blobs.delete(blob_name(sha256))
        app.blobs.delete(blob_name(sha256, thumb=True))


@contextmanager
def store_answering() -> Iterator[None]:
    """A blob store that does not answer (whatever its client raises) is a refusal to try again
    later, in words (a 503), never a 500; an upload refused so records nothing."""
    try:
        yield
    except errors.DomainError:
        raise
    except Exception as e:
        raise errors.PhotoStoreUnavailable(f"the photo store did not answer ({type(e).__name__}); try again "
                                           "shortly") from e


def shred_rider(app: GridGovernance, rider_id: UUID) -> int:
    """Shred the keys of every photo the rider uploaded; how many. Read from the log
    itself (not a read model, which may be behind): an erasure must miss none."""
    topics, after, shredded = topics_of([PhotoUploaded]), 0, 0
    while rows := app.eventlog.page(after, PAGE, topics):
        for row in rows:
            event = app.mapper.to_domain_event(stored_event(row))
            if isinstance(event, PhotoUploaded) and event.rider_id == rider_id:
                app.photo_keys.delete(event.originator_id)
                shredded += 1
        after = rows[-1][0]
    return shredded
