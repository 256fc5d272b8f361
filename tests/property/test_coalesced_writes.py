"""Commands sent at once from many threads through the coalescer (application/coalescer.py) give
the same answers and the same events as some serial order of them: the order its writer decided
them in, replayed one at a time by `execute` on a second engine built the same way.

The commands race where the rules are tight: two riders after one task, the last of an item's
stock, a rider's points spent twice, a task completed by one who does not hold it, a task that is
not there, an idempotency key sent twice (the same command, or another one under it)."""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.coalescer import Coalescer
from application.service import GridGovernance, Outcome
from domain import commands as c, errors
from domain.clock import ManualClock
from domain.events import Actor
from domain.ids import SeededIds
from domain.rates import Rate
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.world import World, rider_actor

START = datetime(2026, 11, 2, 2, tzinfo=timezone.utc)
RIDERS, TASKS = 3, 3
MISSING = UUID("00000000-0000-4000-8000-000000000001")


def engine(folder: str) -> tuple[GridGovernance, dict[str, Any]]:
    """An engine on SQLite with seeded ids and a still clock, and its scene: a grid, riders with
    5 points each, open tasks, an item with less stock than riders."""
    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                               "SQLITE_DBNAME": f"{folder}/events.sqlite",
                                               "GRIDGOV_ERASURES_DIR": f"{folder}/erasures"}),
                                clock=clock, ids=SeededIds(11))
    world = World(app, clock)
    grid = world.grid()
    world.schedule(rates={"patrol": Rate(fen=100, points=5)})
    world.budget()
    riders = [world.rider(grid) for _ in range(RIDERS)]
    for rider in riders:
        world.piece(grid, rider)
    tasks = [world.task(grid) for _ in range(TASKS)]
    item = world.item(world.partner(), price=5, stock=RIDERS - 1)
    return app, {"grid": grid, "riders": riders, "tasks": tasks, "item": item, "head": app.head()}


def command(scene: dict[str, Any], kind: str, task: int, rider: int) -> tuple[c.Command, Actor]:
    rider_id = scene["riders"][rider]
    made = {"claim": lambda: c.ClaimTask(task_id=scene["tasks"][task], rider_id=rider_id),
            "complete": lambda: c.CompleteTask(task_id=scene["tasks"][task], rider_id=rider_id, note="done"),
            "redeem": lambda: c.RedeemItem(rider_id=rider_id, item_id=scene["item"]),
            "missing": lambda: c.ClaimTask(task_id=MISSING, rider_id=rider_id)}[kind]()
    return made, rider_actor(rider_id)


SENT = st.lists(st.tuples(st.sampled_from(["claim", "claim", "complete", "redeem", "missing"]),
                          st.integers(0, TASKS - 1), st.integers(0, RIDERS - 1),
                          st.one_of(st.none(), st.sampled_from(["k1", "k2"]))),
                min_size=2, max_size=12)


def answer(run: Any) -> tuple[str, Any]:
    """What a caller is told, without what is random by design (a redemption's code)."""
    try:
        outcome = run()
    except Exception as e:
        return "refused", (type(e).__name__, str(e))
    return "answered", (outcome.position, {k: v for k, v in outcome.result.items() if k != "code"}, outcome.replayed)


def written(app: GridGovernance, after: int) -> list[tuple[Any, ...]]:
    events = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=after + 1, limit=10**6)]
    return [(type(e).__name__, e.originator_id, e.originator_version,
             e.model_dump(exclude={"code_digest"}, mode="json")) for e in events]


Sent = list[tuple[c.Command, Actor, str | None]]


def from_threads(coalescer: Coalescer, commands: Sent) -> dict[int, tuple[str, Any]]:
    """Each command from a thread of its own, all at once: `execute`, as a sync route's thread calls it."""
    answers: dict[int, tuple[str, Any]] = {}
    start = threading.Barrier(len(commands))

    def send(n: int) -> None:
        made, actor, key = commands[n]
        start.wait()
        answers[n] = answer(lambda: coalescer.execute(made, actor, idempotency_key=key))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(commands))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def from_tasks(coalescer: Coalescer, commands: Sent) -> dict[int, tuple[str, Any]]:
    """Each command from a task of one event loop: `answer`, as the HTTP routes await it."""
    async def send(made: c.Command, actor: Actor, key: str | None) -> tuple[str, Any]:
        try:
            outcome = await coalescer.answer(made, actor, idempotency_key=key)
        except Exception as e:
            return "refused", (type(e).__name__, str(e))
        return answer(lambda: outcome)

    async def all_at_once() -> list[tuple[str, Any]]:
        return await asyncio.gather(*(send(*sent) for sent in commands))

    return dict(enumerate(asyncio.run(all_at_once())))


@pytest.mark.parametrize("callers", [from_threads, from_tasks], ids=["threads", "tasks"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sent=SENT)
def test_any_interleaving_is_some_serial_order(callers: Any, sent: list[tuple[str, int, int, str | None]]) -> None:
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        app, scene = engine(one)
        coalescer = Coalescer(app)
        coalescer.record_order = True
        commands = [(*command(scene, kind, task, rider), key) for kind, task, rider, key in sent]
        answers = callers(coalescer, commands)
        assert len(answers) == len(commands), "a caller was never answered"

        serial, serial_scene = engine(two)
        assert serial_scene == scene  # the same ids: the engines are built alike
        order = [next(n for n, (made, _, _) in enumerate(commands) if made is decided) for decided in coalescer.decided]
        assert sorted(order) == list(range(len(commands)))
        for n in order:
            made, actor, key = commands[n]
            assert answer(lambda: serial.execute(made, actor, idempotency_key=key)) == answers[n], (n, made)
        assert written(app, scene["head"]) == written(serial, scene["head"])
        app.close()
        serial.close()


def test_commands_arriving_together_share_a_transaction() -> None:
    """Not one transaction each: what queued while the writer was busy goes in one batch."""
    with tempfile.TemporaryDirectory() as folder:
        app, scene = engine(folder)
        coalescer = Coalescer(app)
        start = threading.Barrier(20)
        outcomes = []

        def claim(n: int) -> None:
            made, actor = command(scene, "missing" if n % 2 else "redeem", 0, n % RIDERS)
            start.wait()
            outcomes.append(answer(lambda: coalescer.execute(made, actor)))

        threads = [threading.Thread(target=claim, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(outcomes) == 20
        assert coalescer.batched == 20 and coalescer.batches < 20, (coalescer.batches, coalescer.batched)
        app.close()


def test_two_writers_on_one_store_lose_no_answered_command() -> None:
    """Two engines' coalescers on one store (two API instances) claim the same tasks at once: a batch
    that lost the race at commit is decided again one at a time, so each task goes to one rider, and
    every command answered 200 is in the log at or before the position it was answered with."""
    with tempfile.TemporaryDirectory() as folder:
        app, scene = engine(folder)
        other = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                                     "SQLITE_DBNAME": f"{folder}/events.sqlite",
                                                     "GRIDGOV_ERASURES_DIR": f"{folder}/erasures"}),
                                      clock=ManualClock(START), ids=SeededIds(12))
        writers = [Coalescer(app), Coalescer(other)]
        sent = [(writers[n % 2], *command(scene, "claim", n % TASKS, n % RIDERS)) for n in range(24)]
        answers: list[tuple[str, Any]] = [("", None)] * len(sent)
        start = threading.Barrier(len(sent))

        def send(n: int) -> None:
            writer, made, actor = sent[n]
            start.wait()
            answers[n] = answer(lambda: writer.execute(made, actor))

        threads = [threading.Thread(target=send, args=(n,)) for n in range(len(sent))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        taken = [n for n, (how, _) in enumerate(answers) if how == "answered"]
        assert sorted({n % TASKS for n in taken}) == list(range(TASKS)) and len(taken) == TASKS, answers
        claims = [e for e in app.recorder.select_notifications(start=scene["head"] + 1, limit=10**6)
                  if e.topic.endswith("TaskClaimed")]
        assert len(claims) == TASKS
        for n in taken:
            position = answers[n][1][0]
            assert any(claim.id <= position for claim in claims)
        assert all(how == "answered" or details[0] == "TaskAlreadyClaimed"
                   for how, details in answers), answers
        print(f"batches lost at commit and decided again: {[w.conflicts for w in writers]}")
        app.close()
        other.close()


def test_a_caller_gone_away_leaves_its_command_written_and_the_others_answered() -> None:
    """A request whose client hung up is cancelled while it awaits the writer: its command is still
    decided and written in its turn (it may have been answered 200 to no one), and the writer goes on."""
    with tempfile.TemporaryDirectory() as folder:
        app, scene = engine(folder)
        coalescer = Coalescer(app)
        coalescer.record_order = True
        sent = [command(scene, "claim", n % TASKS, n % RIDERS) for n in range(12)]
        # The writer holds its first batch until the callers to go have gone: they are cancelled mid-wait.
        gone, decide = threading.Event(), coalescer._decide
        coalescer._decide = lambda waiting: (gone.wait(60), decide(waiting))  # type: ignore[method-assign]

        async def some_go_away() -> list[Any]:
            tasks = [asyncio.ensure_future(coalescer.answer(made, actor)) for made, actor in sent]
            await asyncio.sleep(0)  # each task submits its command, then awaits
            for task in tasks[::3]:
                task.cancel()
            gone.set()
            return await asyncio.gather(*tasks, return_exceptions=True)

        outcomes = asyncio.run(some_go_away())
        assert all(isinstance(o, asyncio.CancelledError) for o in outcomes[::3])
        stayed = [o for n, o in enumerate(outcomes) if n % 3]
        assert all(isinstance(o, (Outcome, errors.Conflict)) for o in stayed), stayed  # claimed, or taken
        # The writer decided every one, the gone ones included: then a command after them is answered.
        deadline = time.monotonic() + 60
        while len(coalescer.decided) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(coalescer.decided) == len(sent)
        made, actor = command(scene, "missing", 0, 0)
        assert answer(lambda: coalescer.execute(made, actor))[0] == "refused"
        claims = [e for e in written(app, scene["head"]) if e[0] == "TaskClaimed"]
        assert len(claims) == TASKS  # each open task claimed once, whoever asked first
        app.close()
