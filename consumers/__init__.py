"""Everything that touches Kafka: the relay, consumer runners, dead letters.

  relay.py        the event store's notification log, published to Kafka
  topics.py       the topics the relay writes, made up front
  envelope.py     CloudEvents 1.0 over Kafka (binary content mode)
  runner.py       a consumer runner: one read model, one consumer group, exactly-once effect
  watchdog.py     a consumer with lag and no progress is hung
  lag.py          how far the Kafka-fed side is behind, for /readyz, /metrics and the watchdog
  checkpoints.py  the transparency log's signed checkpoints, published on Kafka
  settings.py     what the relay and the consumers need of the settings
  kafka_close.py  kafka-python's clients close their connections on their own IO thread
"""
