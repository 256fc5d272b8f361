"""Reading the event store's log, and the key stores beside it: one
interface (base.py), one module per backend (popo.py, sqlite.py, postgres.py),
chosen by the same setting that chooses the library's recorder
(PERSISTENCE_MODULE), as the library picks its own factory.

    log = open_log(app.recorder)
    log.head()                                  # the last position
    log.page(after=0, limit=500, topics=...)    # rows in log order, as plain tuples
    log.position_of(stream_id, version)         # where an event sits
    log.keys(), log.keys("redemption")          # key stores beside the log (eventlog/keys.py)

Everything that polls the log (the projections' feed, the relay, the event
stream, the open-clue index, the demo, the CLI) reads it through this.

  base.py             the interface, and the shares a log's streams are split in
  popo.py, sqlite.py, postgres.py   one adapter (log and key store) per backend
  keys.py             the key stores' types and interface (riders', redemptions'); a command's new keys,
                      written in its events' transaction by each backend's recorder
  erasures.py         the erasure list: keys shredded, kept outside the database, dropped again on restore
  backup.py           a backup of the events, key stores and transparency tables in one checked file; its restore
  transcoder.py       stored state as bytes (orjson), decoded by the log readers
  postgres_schema.py  making the engine's tables in PostgreSQL, one process at a time
  polling.py          a thread that repeats a round of work on the log
"""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder

from eventlog.base import EVERY, Cursor, EventLog, Raw, Share, first_cursor, share_of, share_range, stored_event

__all__ = ["EVERY", "Cursor", "EventLog", "Raw", "Share", "first_cursor", "open_log", "share_of", "share_range",
           "stored_event", "writing_keys"]


def writing_keys(recorder: ApplicationRecorder) -> ApplicationRecorder:
    """`recorder`, or for the library's in-memory one a fresh POPORecorder, which also writes a
    command's new keys (keys.py: NewKey): the in-memory factory reads no APPLICATION_RECORDER_TOPIC.
    The database backends' recorders are named by that topic (keys.RECORDERS)."""
    from eventsourcing.popo import POPOApplicationRecorder

    if type(recorder) is POPOApplicationRecorder:
        from eventlog.popo import POPORecorder

        return POPORecorder()
    return recorder


def open_log(recorder: ApplicationRecorder) -> EventLog:
    """The adapter for the recorder the library made from PERSISTENCE_MODULE."""
    from eventsourcing.popo import POPOApplicationRecorder
    from eventsourcing.postgres import PostgresApplicationRecorder
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if isinstance(recorder, SQLiteApplicationRecorder):
        from eventlog.sqlite import SQLiteLog

        return SQLiteLog(recorder)
    if isinstance(recorder, PostgresApplicationRecorder):
        from eventlog.postgres import PostgresLog

        return PostgresLog(recorder)
    if isinstance(recorder, POPOApplicationRecorder):
        from eventlog.popo import POPOLog

        return POPOLog(recorder)
    raise ValueError(f"no event-log adapter for {type(recorder).__name__}; "
                     "PERSISTENCE_MODULE must be eventsourcing.sqlite, eventsourcing.postgres or eventsourcing.popo")
