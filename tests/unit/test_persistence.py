"""Events survive the trip to bytes and back, today's and every older version."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from uuid import uuid4
from pathlib import Path
from unittest import skip

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.tests import persistence as contract
from hypothesis import given
from hypothesis import strategies as st

import application.service  # noqa: F401  (imports every aggregate module, filling EVENT_TYPES)
from domain.access import AuditAccessed
from domain.clues import Category, ClueReported, Location
from domain.events import EVENT_TYPES, Actor, Event, Meta, Role
from application.persistence import PydanticMapper
from eventlog.transcoder import OrjsonTranscoder
from domain.rates import Rate, RateScheduleIssued
from domain.subsidies import AwardKind, SubsidyAwarded

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
NOT_FOR_A_TYPED_MAPPER = ("the mapper hands this transcoder JSON-mode dicts only; tuples, subclasses and custom "
                          "types are restored from the event's declared field types, not by the transcoder")


class TestOrjsonTranscoder(contract.TranscoderTestCase):
    """The library's own transcoder contract. The cases that test its registry of
    custom transcodings do not apply: see NOT_FOR_A_TYPED_MAPPER."""

    def construct_transcoder(self) -> OrjsonTranscoder:
        return OrjsonTranscoder()

    test_tuple = skip(NOT_FOR_A_TYPED_MAPPER)(contract.TranscoderTestCase.test_tuple)
    test_mixed = skip(NOT_FOR_A_TYPED_MAPPER)(contract.TranscoderTestCase.test_mixed)
    test_dict_subclass = skip(NOT_FOR_A_TYPED_MAPPER)(contract.TranscoderTestCase.test_dict_subclass)
    test_list_subclass = skip(NOT_FOR_A_TYPED_MAPPER)(contract.TranscoderTestCase.test_list_subclass)
    test_str_subclass = skip(NOT_FOR_A_TYPED_MAPPER)(contract.TranscoderTestCase.test_str_subclass)
    test_int_subclass = skip(NOT_FOR_A_TYPED_MAPPER)(contract.TranscoderTestCase.test_int_subclass)
    test_custom_type_in_dict = skip(NOT_FOR_A_TYPED_MAPPER)(contract.TranscoderTestCase.test_custom_type_in_dict)
    test_nested_custom_type = skip(NOT_FOR_A_TYPED_MAPPER)(contract.TranscoderTestCase.test_nested_custom_type)
    test_custom_type_error = skip(NOT_FOR_A_TYPED_MAPPER)(contract.TranscoderTestCase.test_custom_type_error)

    def test_an_undeclared_type_is_refused_with_a_type_error(self) -> None:
        with self.assertRaises(TypeError):
            self.transcoder.encode({"a": object()})


MAPPER = PydanticMapper(transcoder=OrjsonTranscoder())


def round_trip(event: Event) -> Event:
    return MAPPER.to_domain_event(MAPPER.to_stored_event(event))


def load_sample(path: Path) -> StoredEvent:
    sample = orjson.loads(path.read_bytes())
    from uuid import UUID

    return StoredEvent(originator_id=UUID(sample["originator_id"]), originator_version=sample["originator_version"],
                       topic=sample["topic"], state=orjson.dumps(sample["state"]))


SAMPLE_FILES = sorted(SAMPLES.glob("*.json"))


def test_every_event_type_has_a_sample_of_every_version() -> None:
    have = {(m[1], int(m[2])) for p in SAMPLE_FILES if (m := re.fullmatch(r"(\w+)\.v(\d+)\.json", p.name))}
    want = {(name, v) for name, cls in EVENT_TYPES.items() for v in range(1, cls.schema_version + 1)}
    assert want - have == set(), "run scripts/freeze_event_samples.py and commit the new samples"


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_stored_samples_stay_readable(path: Path) -> None:
    stored = load_sample(path)
    event = MAPPER.to_domain_event(stored)
    assert type(event).__name__ == path.name.split(".")[0]
    assert event.originator_id == stored.originator_id
    assert event.timestamp.tzinfo is not None
    assert round_trip(event) == event


def test_a_v1_clue_is_upcast_to_the_nested_location() -> None:
    event = MAPPER.to_domain_event(load_sample(SAMPLES / "ClueReported.v1.json"))
    assert isinstance(event, ClueReported)
    assert event.location == Location(lat=30.6571, lon=104.0817)
    assert event.duplicate_candidates == ()
    assert orjson.loads(MAPPER.to_stored_event(event).state)["_v"] == ClueReported.schema_version


def test_a_v1_access_is_upcast_to_the_method_and_its_parameters_apart() -> None:
    stored = load_sample(SAMPLES / "AuditAccessed.v1.json")
    state = orjson.loads(stored.state)
    state["parameters"] = {"district": "温江", "from": "2026-11-01"}  # v1 merged the path's and the query's
    event = MAPPER.to_domain_event(StoredEvent(originator_id=stored.originator_id, originator_version=1,
                                               topic=stored.topic, state=orjson.dumps(state)))
    assert isinstance(event, AuditAccessed)
    assert (event.what, event.path_parameters, event.query_parameters) == (
        "GET /v1/districts/{district}/history", {"district": "温江"}, {"from": "2026-11-01"})


def test_a_v1_schedule_names_its_rates_where_the_code_is_a_category() -> None:
    stored = load_sample(SAMPLES / "RateScheduleIssued.v1.json")
    state = orjson.loads(stored.state)
    state["rates"]["blocked_fire_lane"] = {"fen": 800, "points": 8}  # v1 knew fen and points alone
    event = MAPPER.to_domain_event(StoredEvent(originator_id=stored.originator_id, originator_version=1,
                                               topic=stored.topic, state=orjson.dumps(state)))
    assert isinstance(event, RateScheduleIssued)
    assert (event.rates["blocked_fire_lane"].name_zh, event.rates["blocked_fire_lane"].name_en) == (
        "消防通道堵塞", "Blocked fire lane")
    assert (event.rates["patrol"].name_zh, event.rates["patrol"].name_en) == (None, None)  # no words to take
    assert event.rates["patrol"].fen == 500


def test_a_stored_event_that_cannot_be_read_says_which_and_why() -> None:
    stored = load_sample(SAMPLES / "TaskClaimed.v1.json")
    broken = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, b'{"rider_id": 5}')
    with pytest.raises(Exception, match=r"TaskClaimed .* v2"):
        MAPPER.to_domain_event(broken)


# --- generated round trips -----------------------------------------------------------

offsets = st.sampled_from([timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))])
aware = st.datetimes(timezones=offsets)
texts = st.text(min_size=1, max_size=40)
fen = st.integers(min_value=0, max_value=2**53)
metas = st.builds(Meta, actor=st.builds(Actor, id=texts, role=st.sampled_from(Role)),
                  correlation_id=st.uuids(), causation_id=st.uuids())


def envelope() -> dict:
    return {"originator_id": st.uuids(), "originator_version": st.integers(1, 10**6), "timestamp": aware,
            "meta": metas}


@given(st.builds(SubsidyAwarded, **envelope(), rider_id=st.uuids(), district=texts, period=texts, day=texts,
                 piece_id=st.uuids(), kind=st.sampled_from(AwardKind), rate_code=texts,
                 rate_version=st.integers(0, 99), rate_fen=fen, fen=fen,
                 appeal_id=st.none() | st.uuids()))
def test_awards_round_trip(event: SubsidyAwarded) -> None:
    assert round_trip(event) == event


@given(st.builds(ClueReported, **envelope(), grid_id=st.uuids(), district=texts, reporter_id=st.uuids(),
                 category=st.sampled_from(Category), text=texts,
                 location=st.builds(Location, lat=st.floats(-90, 90), lon=st.floats(-180, 180)),
                 evidence_hashes=st.lists(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
                                          max_size=3).map(tuple),
                 duplicate_candidates=st.lists(st.uuids(), max_size=3).map(tuple)))
def test_clues_round_trip(event: ClueReported) -> None:
    assert round_trip(event) == event


@given(st.builds(RateScheduleIssued, **envelope(), district=texts, version=st.integers(1, 99),
                 effective_from=aware, rates=st.dictionaries(texts, st.builds(Rate, fen=fen,
                                                                              points=st.integers(0, 10**6))),
                 cap_day_fen=fen, cap_month_fen=fen))
def test_schedules_round_trip(event: RateScheduleIssued) -> None:
    back = round_trip(event)
    assert back == event
    assert back.effective_from.utcoffset() == event.effective_from.utcoffset()


def test_events_are_stored_under_their_declared_name_not_a_module_path() -> None:
    event = ClueReported(originator_id=uuid4(), originator_version=1, timestamp=datetime.now(timezone.utc),
                         meta=Meta(actor=Actor(id="x", role=Role.RIDER), correlation_id=uuid4(), causation_id=uuid4()),
                         reporter_id=uuid4(), grid_id=uuid4(), district="wj", category=next(iter(Category)),
                         location=Location(lat=30.6, lon=103.9), text="a loose cover")
    assert MAPPER.to_stored_event(event).topic == "gridgov.ClueReported"


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_an_event_stored_under_its_legacy_module_path_reads_as_under_its_name(name: str) -> None:
    """History written before names were declared keeps its module-path topics."""
    new = load_sample(max(SAMPLES.glob(f"{name}.v*.json")))
    legacy = replace(new, topic=f"domain.{EVENT_TYPES[name].aggregate}:{name}")
    current = replace(new, topic=f"gridgov.{name}")
    assert MAPPER.to_domain_event(legacy) == MAPPER.to_domain_event(current)
