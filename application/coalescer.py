"""Commands from many callers at once, decided one after another and written in one transaction.

The HTTP API runs each request in a thread of its own; one at a time, every command pays a
transaction (on PostgreSQL: the event table's lock and its round trips). Here the requests'
threads hand their commands to one writer thread, which takes whatever has queued up while
it wrote the last batch and decides those commands in a `Batch` (group commit, batch.py):
each on the state the ones before it left, written together, each caller answered once the
transaction is committed. Nobody waits for a batch to fill: a command arriving at an idle
writer is decided at once, alone; batches grow only while the store is busy.

The answers are those of `GridGovernance.execute` in the writer's order:
  - a refused command's caller gets its refusal, and it wrote nothing (or, for a refusal that
    is a fact, its events, written with the batch) — but only once the batch is committed;
  - a command with an idempotency key writes its record with its events, in the batch; a key
    used before is answered by `execute` itself (the first answer, or the refusal of another
    command under it), after the batch before it is committed;
  - if another process wrote first to an aggregate of the batch (a conflict at commit),
    nothing of the batch was written and each of its commands is decided again by `execute`,
    one at a time, in the same order: their answers are those;
  - if the store fails, every caller of the batch gets that error: nothing was written.
An answer is given only after its transaction: a process killed mid-batch has answered
nothing it had not written.

The writer thread starts with the first command and ends after IDLE_S without one, so an
app made and dropped (as the tests do thousands of times) leaves no thread behind.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from application.batch import Batch, KeyUsedBefore
from domain import errors
from domain.commands import Command
from domain.events import Actor
from domain.scope import EVERYWHERE, Scope

if TYPE_CHECKING:
    from application.service import GridGovernance, Outcome

log = logging.getLogger(__name__)

MAX_BATCH = 256  # commands decided before a commit: bounds the wait of the first of them
IDLE_S = 5.0
ANSWER_TIMEOUT_S = 120.0  # a caller's wait for the writer, far beyond any batch: then it is told


@dataclass
class _Submitted:
    command: Command
    actor: Actor
    scope: Scope
    idempotency_key: str | None
    correlation_id: UUID | None
    answer: Future[Outcome] = field(default_factory=Future)


def _unanswered() -> errors.StoreUnavailable:
    return errors.StoreUnavailable(f"the writer did not answer within {ANSWER_TIMEOUT_S:g} s")


class Coalescer:
    def __init__(self, app: GridGovernance, max_batch: int = MAX_BATCH, idle_s: float = IDLE_S) -> None:
        self.app, self.max_batch, self.idle_s = app, max_batch, idle_s
        self._queue: queue.SimpleQueue[_Submitted] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self.batches = 0  # committed batches and their commands (read by the tests)
        self.batched = 0
        self.conflicts = 0  # batches another process beat at commit, decided again one at a time
        self.decided: list[Command] = []  # when `record_order`: the commands, in the order decided (tests)
        self.record_order = False

    def execute(self, command: Command, actor: Actor, *, idempotency_key: str | None = None,
                correlation_id: UUID | None = None, scope: Scope = EVERYWHERE) -> Outcome:
        """As `GridGovernance.execute`, decided by the writer thread with whatever else is waiting."""
        answer = self.submit(command, actor, idempotency_key=idempotency_key, correlation_id=correlation_id,
                             scope=scope)
        try:
            return answer.result(timeout=ANSWER_TIMEOUT_S)
        except TimeoutError:
            raise _unanswered() from None

    async def answer(self, command: Command, actor: Actor, *, idempotency_key: str | None = None,
                     scope: Scope = EVERYWHERE) -> Outcome:
        """`execute` for a caller on an event loop: it awaits the writer's answer and holds no thread
        meanwhile (an HTTP request's thread was one more hand-over per command). A caller that goes
        away (its task cancelled) leaves its command to be decided and written all the same."""
        answer = asyncio.wrap_future(self.submit(command, actor, idempotency_key=idempotency_key, scope=scope))
        try:
            return await asyncio.wait_for(asyncio.shield(answer), ANSWER_TIMEOUT_S)
        except TimeoutError:
            raise _unanswered() from None

    def submit(self, command: Command, actor: Actor, *, idempotency_key: str | None = None,
               correlation_id: UUID | None = None, scope: Scope = EVERYWHERE) -> Future[Outcome]:
        """The command queued for the writer; its answer, once its batch is committed."""
        submitted = _Submitted(command, actor, scope, idempotency_key, correlation_id)
        self._queue.put(submitted)
        self._ensure_writer()
        return submitted.answer

    def _ensure_writer(self) -> None:
        with self._lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write, name="gridgov-coalescer", daemon=True)
                self._writer.start()

    def _write(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_s)
            except queue.Empty:
                with self._lock:
                    # A command queued after the timeout but before this check would wait for a
                    # writer that is leaving: look once more under the lock `_ensure_writer` takes.
                    if self._queue.empty():
                        self._writer = None
                        return
                continue
            waiting = [first]
            while len(waiting) < self.max_batch:
                try:
                    waiting.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._decide(waiting)
            except BaseException as e:  # never leave a caller waiting on a writer that died
                log.exception("coalescer: a batch failed outside its commands")
                for submitted in waiting:
                    if not submitted.answer.done():
                        submitted.answer.set_exception(e)

    def _decide(self, waiting: list[_Submitted]) -> None:
        """In order, into batches: a command whose key was used before, or with a correlation id of
        its caller's, is decided by `execute` alone after the batch before it is committed."""
        if self.record_order:
            self.decided += [submitted.command for submitted in waiting]
        batch, answers = self.app.batch(), []
        for submitted in waiting:
            if submitted.correlation_id is None:
                try:
                    result: dict[str, Any] | BaseException = batch.execute(
                        submitted.command, submitted.actor, submitted.scope, submitted.idempotency_key)
                    answers.append((submitted, result, batch.size - 1))
                    continue
                except KeyUsedBefore:
                    pass  # nothing decided: execute replays the first answer, after what came before
                except Exception as refused:  # a refusal, or a fault of this command alone (its caller's 500)
                    answers.append((submitted, refused, None))
                    continue
            self._commit(batch, answers)
            batch, answers = self.app.batch(), []
            self._alone(submitted)
        self._commit(batch, answers)

    def _alone(self, submitted: _Submitted) -> None:
        try:
            outcome = self.app.execute(submitted.command, submitted.actor, idempotency_key=submitted.idempotency_key,
                                       correlation_id=submitted.correlation_id, scope=submitted.scope)
        except BaseException as e:
            submitted.answer.set_exception(e)
        else:
            submitted.answer.set_result(outcome)

    def _commit(self, batch: Batch, answers: list[tuple[_Submitted, dict[str, Any] | BaseException, int | None]]) -> None:
        """The batch written; then each of its callers answered."""
        if not answers:
            return
        from application.service import Outcome

        try:
            positions = batch.commit()
        except errors.ConcurrencyConflict:
            # Another process wrote first: nothing of the batch is written. Each decided again,
            # in the same order, one at a time (execute retries on fresh state).
            self.conflicts += 1
            for submitted, _, _ in answers:
                self._alone(submitted)
            return
        except BaseException as e:  # the store failed: nothing written, every caller told
            for submitted, _, _ in answers:
                submitted.answer.set_exception(e)
            return
        self.batches += 1
        self.batched += len(answers)
        for submitted, result, accepted in answers:
            if isinstance(result, BaseException):
                submitted.answer.set_exception(result)
            else:
                assert accepted is not None
                position = positions[accepted] if positions else self.app.head()  # a batch that wrote nothing
                submitted.answer.set_result(Outcome(position=position, result=result))
