"""Read models built from the event log: one declarative module each, and what they are made of.

  registry.py    every read model by name (PROJECTIONS): the engine, rebuild, verify and /readyz take them from here
  base.py        Projection: tables, handled events, touches, apply; sharding (by_stream, owns) and weight
  rows.py        Table and BatchRows, the rows one batch of events touches, kept in memory while it is folded
  facts.py       events as projections see them (Fact): the stored JSON, upcast
  filters.py     the WHERE of a list query, within a caller's scope

  board.py       the grid-task board
  balances.py    subsidy balances, budgets, the ledger, rate schedules
  points.py      riders' points: available, held, spent, earned, expired
  audit.py       the audit trail: every step of every award's story
  stats.py       statistics for dashboards
  clues.py       clues as officers triage them
  appeals.py     appeals as the district handles them
  riders.py      riders' profiles
  rewards.py     stations, partners, catalogues, redemptions, points policy
  access.py      the access log: who looked
  photos.py      photos as evidence: uploader, time, what cites them (scoping, the sweep)
  pieces.py      each piece a rider was paid for: awarded, withheld and by what, reversed and why
  staff.py       the staff directory: officers' and admins' display names by id
  open311.py     Open311's service requests read from the clues and board read models (queries only)
  open311_keys.py  the district's Open311 keys: label, whose, issued, revoked (never the secret)

  engine/        what feeds them: projector, log feed and follower, rebuild, parallel fill
  stores/        where they live: SQLite, PostgreSQL

Each module also holds its reads (functions of a store), so no SQL on a read
model's tables is written outside this package. How to add one: docs/contributing.md.
"""
