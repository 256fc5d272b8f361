"""The projection engine: what feeds read models, apart from the read models.

  projector.py  applies a batch of events to read models, exactly once in effect
  feed.py       reads the event log for them (LogFeed) and follows it (Follower)
  rebuild.py    rebuilds into shadow copies and swaps them in; verifies
  parallel.py   the helper processes a rebuild fills its shadow copies with
  tracking.py   how far a read model has got: the two tracking tables every copy has

The Kafka consumers (consumers/runner.py) hand the same Projector their batches.
"""
