"""docs/asyncapi.yaml describes every event type that is published, and real
payloads match it."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest
import yaml
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import asyncapi  # noqa: E402

from consumers.topics import NOT_PUBLISHED  # noqa: E402
from domain.events import EVENT_TYPES  # noqa: E402

DOC = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())


def test_the_document_is_up_to_date() -> None:
    assert (ROOT / "docs" / "asyncapi.yaml").read_text() == asyncapi.render(), \
        "run python scripts/asyncapi.py and commit docs/asyncapi.yaml"


def test_every_published_event_type_is_described_on_its_channel() -> None:
    published = set(EVENT_TYPES) - NOT_PUBLISHED
    cloud_events = {name for name, message in DOC["components"]["messages"].items()
                    if message["headers"] == {"$ref": "#/components/schemas/CloudEventHeaders"}}
    assert cloud_events == published
    on_channels = {name for channel in DOC["channels"].values() for name in channel.get("messages", {})}
    assert on_channels == published | {"Checkpoint"}  # the checkpoints channel's signed note


@pytest.mark.parametrize("sample", sorted((ROOT / "tests" / "samples").glob("*.json")), ids=lambda p: p.stem)
def test_stored_samples_at_the_current_version_match_the_payload_schema(sample: Path) -> None:
    name, version = sample.stem.split(".v")
    if name in NOT_PUBLISHED or int(version) != EVENT_TYPES[name].schema_version:
        pytest.skip("not published, or an older version (the relay publishes upcast events)")
    state = orjson.loads(sample.read_bytes())["state"]
    state.pop("_v", None)
    schema = {**DOC, "$ref": f"#/components/schemas/{name}"}
    errors = list(Draft202012Validator(schema).iter_errors(state))
    assert errors == []
