"""The application service: commands in, events stored, answers out.

- service.py: `GridGovernance`, the library's Application, and what runs a command
- handlers.py: one function per command, routed by the command's type
- unit_of_work.py: what a handler loads and saves, checked for scope and kind
- current.py: the aggregates a process keeps, brought up to date from the log's new positions
- batch.py: group commit, many commands in one transaction
- coalescer.py: the commands of many callers at once, decided in turn and written as one batch
- idempotency.py: the record of a command given with a key
- clue_index.py: the open clues near a place, read from the log
- places.py: where a location falls (the grids' and districts' boundaries, read from the log) and whether a boundary may be drawn
- held_redemptions.py: each partner's held redemptions and their codes' digests, read from the log
- log_follower.py: what those three indexes share: the events of a few topics, caught up to a command's head
- persistence.py: domain events to stored events and back
- personal.py: sealing a rider's personal data with their key
- photos.py: photos' bytes sealed into the blob store with a key each, unsealed, shredded
"""
