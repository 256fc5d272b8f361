"""Everything that touches Kafka: relay, consumer runners, dead letters."""
