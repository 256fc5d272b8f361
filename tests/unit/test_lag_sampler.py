"""The simulated day's lag sampler: a command's lag is its slowest read model's, and
each read model's own lag is kept, so a report says which one holds the day back."""

from __future__ import annotations

import pytest

from gridgov import simulate
from gridgov.simulate import LagSampler, Sample


def test_a_commands_lag_is_its_slowest_read_models_and_each_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    have: set[tuple[str, str]] = set()  # (read model, stream) applied
    monkeypatch.setattr(simulate.tracking, "applied", lambda store, model, events: all(
        (model.name, stream) in have for stream, _ in events))
    now = [100.0]
    monkeypatch.setattr(simulate.time, "monotonic", lambda: now[0])
    sampler = LagSampler(app=None, store=None, latest=lambda: None)  # type: ignore[arg-type]
    sampler.pending = [Sample(99.0, {"board": [("a", 1)], "riders": [("a", 1)]}),
                       Sample(99.5, {"board": [("b", 1)]})]
    have.add(("board", "a"))
    sampler._settle()
    assert sampler.samples == [] and sampler.pending[0].done == {"board": 100.0}, "riders has not got it yet"
    now[0] = 101.0
    have |= {("riders", "a"), ("board", "b")}
    sampler._settle()
    assert sampler.samples == [2000.0, 1500.0]
    assert sampler.by_model["board"] == [(99.0, 1000.0), (99.5, 1500.0)]
    assert sampler.by_model["riders"] == [(99.0, 2000.0)]


def test_a_read_model_is_not_asked_about_a_later_command_before_an_earlier_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def applied(store, model, events):  # type: ignore[no-untyped-def]
        asked.append(events[0][0])
        return False
    monkeypatch.setattr(simulate.tracking, "applied", applied)
    sampler = LagSampler(app=None, store=None, latest=lambda: None)  # type: ignore[arg-type]
    sampler.pending = [Sample(1.0, {"board": [("a", 1)]}), Sample(2.0, {"board": [("b", 1)]})]
    sampler._settle()
    assert asked == ["a"]
