"""The grid-governance domain: aggregates, events, rules and the application service.

Nothing here knows about HTTP or Kafka; adapters live in `api/` and `consumers/`.
"""
