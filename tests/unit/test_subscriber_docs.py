"""What the docs tell another service's developers about the topics is what the code
makes: docs/kafka.md's topic list, docs/subscribers.md's topics and example, the
AsyncAPI document's channels and the prefix setting's words, each held against
`consumers.topics.event_topics` and the dead-letter and checkpoint topics' names.
A topic added in the code and not in the docs fails here."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import asyncapi  # noqa: E402

from consumers.settings import KafkaSettings  # noqa: E402
from consumers.topics import event_topics  # noqa: E402
from gridgov.settings import Settings  # noqa: E402

PREFIX = "<prefix>"
NAMED = KafkaSettings(bootstrap="", prefix=PREFIX)
EVENT_TOPICS = set(event_topics(NAMED))
OTHER_TOPICS = {NAMED.dlq_topic, NAMED.checkpoints_topic}
DOCS = ROOT / "docs"


def topics_named(text: str) -> set[str]:
    return set(re.findall(r"`(<prefix>\.[a-z0-9_]+\.v1)`", text))


def generated_block(path: Path) -> str:
    text = path.read_text()
    start, end = text.find(asyncapi.TOPICS_BEGIN), text.find(asyncapi.TOPICS_END)
    assert 0 <= start < end, f"{path.name} has no generated topic table ({asyncapi.TOPICS_BEGIN})"
    return text[start:end + len(asyncapi.TOPICS_END)]


def test_kafka_md_lists_every_topic_the_engine_makes() -> None:
    assert topics_named(generated_block(DOCS / "kafka.md")) == EVENT_TOPICS | OTHER_TOPICS


def test_the_subscribers_guide_lists_every_event_topic_and_names_the_others() -> None:
    guide = (DOCS / "subscribers.md").read_text()
    assert topics_named(generated_block(DOCS / "subscribers.md")) == EVENT_TOPICS | OTHER_TOPICS
    for name in OTHER_TOPICS:
        assert f"`{name}`" in guide.replace(generated_block(DOCS / "subscribers.md"), ""), \
            f"the guide should say what {name} is for, outside the table"


def test_the_topic_tables_are_generated_from_the_code() -> None:
    for name in ("kafka.md", "subscribers.md"):
        assert generated_block(DOCS / name) == asyncapi.topics_table(), \
            f"run python scripts/asyncapi.py and commit docs/{name}"


def example_source() -> str:
    found = re.search(r"```python\n(.*?)```", (DOCS / "subscribers.md").read_text(), re.S)
    assert found, "docs/subscribers.md has no python example"
    return found.group(1)


def test_the_guides_example_subscribes_to_exactly_the_event_topics() -> None:
    tree = ast.parse(example_source())
    aggregates = next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                      and any(getattr(t, "id", None) == "AGGREGATES" for t in node.targets))
    assert {f"{PREFIX}.{aggregate}.v1" for aggregate in aggregates} == EVENT_TOPICS


def test_the_asyncapi_channels_are_the_topics_the_engine_makes() -> None:
    doc = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    on_the_wire = {channel["address"].replace("gridgov.", f"{PREFIX}.", 1) for channel in doc["channels"].values()}
    assert on_the_wire == EVENT_TOPICS | OTHER_TOPICS
    internal = {channel["address"] for channel in doc["channels"].values() if channel.get("x-internal")}
    assert internal == {"gridgov.dlq.v1"}, "the dead letters are the engine's own, not for subscribers"


def test_the_checkpoints_channel_describes_the_signed_note() -> None:
    doc = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    channel = next(c for c in doc["channels"].values() if c["address"] == "gridgov.checkpoints.v1")
    (ref,) = channel["messages"].values()
    message = doc["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]
    assert message["contentType"] == "text/plain; charset=utf-8"
    assert message["payload"]["type"] == "string"
    assert message["headers"]["properties"]["content-type"]["const"] == "text/plain; charset=utf-8"
    assert "checkpoint" in message["bindings"]["kafka"]["key"]["description"]


def test_the_prefix_setting_names_every_kind_of_topic() -> None:
    """Its words are the README's settings row (generated from the settings)."""
    words = Settings.model_fields["KAFKA_TOPIC_PREFIX"].description or ""
    for name in ("<prefix>.<aggregate>.v1", NAMED.dlq_topic, NAMED.checkpoints_topic):
        assert name in words
