"""The task lifecycle against a model, checked after every step (docs/design.md §4):
at most one live claim; only a member who is not suspended claims; a claim
expires after its TTL; only the claimant completes; a verified piece is paid
once; a refused command writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from domain import commands as c
from domain import errors
from domain.subsidies import SubsidyAwarded
from domain.tasks import GridTask, TaskClaimed, TaskStatus
from tests.fixtures.apps import fresh_app, run_machine
from tests.fixtures.world import rider_actor

TTLS = [60, 600, 3600]


@dataclass
class ModelTask:
    ttl: int
    status: TaskStatus = TaskStatus.OPEN
    claimant: UUID | None = None
    expires_at: datetime | None = None

    def live_claim(self, now: datetime) -> bool:
        return self.status is TaskStatus.CLAIMED and self.expires_at is not None and now < self.expires_at


class TaskLifecycle(RuleBasedStateMachine):
    backend = "sqlite"
    tasks = Bundle("tasks")

    def __init__(self) -> None:
        super().__init__()
        self.app, self.clock, self.world, self.cleanup = fresh_app(self.backend)
        self.grid, first = self.world.scene()
        self.members = [first, self.world.rider(self.grid), self.world.rider(self.grid)]
        self.outsider = self.world.rider()
        self.suspended: set[UUID] = set()
        self.model: dict[UUID, ModelTask] = {}

    def teardown(self) -> None:
        self.app.close()
        self.cleanup()

    def attempt(self, expected_ok: bool, action) -> bool:  # type: ignore[no-untyped-def]
        """Run a command; it must succeed exactly when the model says so, and a
        refusal must leave the log as it was."""
        head = self.app.head()
        try:
            action()
        except errors.DomainError as e:
            assert not expected_ok, f"refused unexpectedly: {e.code}: {e.message}"
            assert self.app.head() == head, "a refused command wrote events"
            return False
        assert expected_ok, "accepted a command the rules forbid"
        return True

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def riders(self) -> st.SearchStrategy[UUID]:
        return st.sampled_from([*self.members, self.outsider])

    @rule(target=tasks, ttl=st.sampled_from(TTLS))
    def publish(self, ttl: int) -> UUID:
        task = self.world.task(self.grid, ttl=ttl)
        self.model[task] = ModelTask(ttl=ttl)
        return task

    @rule(task=tasks, pick=st.integers(0, 3))
    def claim(self, task: UUID, pick: int) -> None:
        rider = [*self.members, self.outsider][pick]
        m = self.model[task]
        may = (rider in self.members and rider not in self.suspended
               and (m.status is TaskStatus.OPEN or (m.status is TaskStatus.CLAIMED and not m.live_claim(self.now))))
        if self.attempt(may, lambda: self.world.claim(task, rider)):
            m.status, m.claimant, m.expires_at = TaskStatus.CLAIMED, rider, self.now + timedelta(seconds=m.ttl)

    @rule(task=tasks, pick=st.integers(0, 2))
    def withdraw(self, task: UUID, pick: int) -> None:
        rider = self.members[pick]
        m = self.model[task]
        may = m.status is TaskStatus.CLAIMED and m.claimant == rider
        if self.attempt(may, lambda: self.world.do(c.ReleaseClaim(task_id=task, rider_id=rider), rider_actor(rider))):
            m.status, m.claimant, m.expires_at = TaskStatus.OPEN, None, None

    @rule(task=tasks, pick=st.integers(0, 2))
    def complete(self, task: UUID, pick: int) -> None:
        rider = self.members[pick]
        m = self.model[task]
        may = m.live_claim(self.now) and m.claimant == rider
        if self.attempt(may, lambda: self.world.complete(task, rider)):
            m.status, m.expires_at = TaskStatus.AWAITING_VERIFICATION, None

    @rule(task=tasks)
    def verify(self, task: UUID) -> None:
        m = self.model[task]
        if self.attempt(m.status is TaskStatus.AWAITING_VERIFICATION, lambda: self.world.verify(task)):
            m.status = TaskStatus.VERIFIED

    @rule(task=tasks)
    def reject(self, task: UUID) -> None:
        m = self.model[task]
        action = lambda: self.world.do(c.RejectCompletion(task_id=task, reason="blurred"), self.world.officer)  # noqa: E731
        if self.attempt(m.status is TaskStatus.AWAITING_VERIFICATION, action):
            m.status, m.expires_at = TaskStatus.CLAIMED, self.now + timedelta(seconds=m.ttl)

    @rule(task=tasks)
    def cancel(self, task: UUID) -> None:
        m = self.model[task]
        may = m.status not in (TaskStatus.VERIFIED, TaskStatus.CANCELLED)
        action = lambda: self.world.do(c.CancelTask(task_id=task, reason="obsolete"), self.world.officer)  # noqa: E731
        if self.attempt(may, action):
            m.status, m.claimant, m.expires_at = TaskStatus.CANCELLED, None, None

    @rule(task=tasks)
    def sweep(self, task: UUID) -> None:
        m = self.model[task]
        expired = m.status is TaskStatus.CLAIMED and not m.live_claim(self.now)
        released = self.world.do(c.ExpireClaim(task_id=task), self.world.engine).result["released"]
        assert released == expired
        if expired:
            m.status, m.claimant, m.expires_at = TaskStatus.OPEN, None, None

    @rule(pick=st.integers(0, 2))
    def suspend_or_reinstate(self, pick: int) -> None:
        rider = self.members[pick]
        if rider in self.suspended:
            self.world.do(c.ReinstateRider(rider_id=rider, reason="cleared"), self.world.admin)
            self.suspended.discard(rider)
        else:
            self.world.do(c.SuspendRider(rider_id=rider, reason="complaint"), self.world.admin)
            self.suspended.add(rider)

    # Exactly a TTL, too: expiry is decided on the boundary.
    @rule(seconds=st.integers(1, 4000) | st.sampled_from(TTLS))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @invariant()
    def the_store_agrees_with_the_model(self) -> None:
        for task_id, m in self.model.items():
            task = self.app.repository.get(task_id, projector_func=GridTask.project)
            assert (task.status, task.claimant) == (m.status, m.claimant)

    @invariant()
    def at_most_one_live_claim_and_one_award_per_piece(self) -> None:
        events = self.world.events()
        for task_id, m in self.model.items():
            stream = [e for e in events if e.originator_id == task_id]
            claimed = False
            for e in stream:
                if isinstance(e, TaskClaimed):
                    assert not claimed, "a second claim while one was live"
                    claimed = True
                elif type(e).__name__ in ("ClaimReleased", "TaskCancelled"):
                    claimed = False
            awards = [e for e in events if isinstance(e, SubsidyAwarded) and e.piece_id == task_id]
            assert len(awards) == (1 if m.status is TaskStatus.VERIFIED else 0)


@pytest.mark.parametrize("backend,examples", [("sqlite", 40), pytest.param("postgres", 10, marks=pytest.mark.postgres)])
def test_task_lifecycle(backend: str, examples: int) -> None:
    run_machine(TaskLifecycle, backend, examples)
