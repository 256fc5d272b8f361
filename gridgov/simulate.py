"""`gridgov simulate`: a day of the city through the real pipeline, measured.

This process writes the day's commands through the application service into the
configured event store; `gridgov relay` and one `gridgov consume NAME` per read
model run beside it as processes of their own, as in production. While the day
runs, a sampler takes the latest command every quarter second and times how long
until its events are in every read model that handles them (the projection
lag); every process's resident memory is sampled each second. With `chaos`, the
workers are SIGKILLed and restarted at random moments and the broker is
restarted once. At the end, once everything is caught up, every read model must
equal a fresh fold of the store and the subsidy totals must agree to the fen.

This process asks gridgov.bootstrap for its engine (the application, the read
models, the consumers' lag); the workers are the CLI's own commands, so each is
built by gridgov.bootstrap in its process, from the settings this run hands it.

Each run starts from nothing: topics of its own (a fresh prefix) and a fresh
event store and read-model store (PostgreSQL schemas `sim_<run>` and
`sim_<run>_rm`, or SQLite files beside the logs), named in the report so they can
be served or inspected afterwards.
"""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from consumers.lag import KafkaLag
from consumers.topics import delete_topics
from consumers.watchdog import restarts
from domain.clock import ManualClock
from domain.events import type_of_topic
from domain.ids import SeededIds
from application.service import GridGovernance
from eventlog import stored_event
from gridgov.bootstrap import bootstrap, kafka_settings
from gridgov.city_day import CityDay
from gridgov.settings import Settings
from projections.balances import totals as subsidy_totals
from projections.registry import PROJECTIONS, instances
from projections.engine import tracking
from projections.engine.projector import Projector
from projections.engine.rebuild import verify
from projections.stores import ReadStore

ROOT = Path(__file__).resolve().parents[1]
KAFKA_SCRIPT = ROOT / "scripts" / "kafka.sh"
CONSUMED = [name for name in PROJECTIONS if name != "access"]  # no auditor reads in a simulated day


@dataclass
class Report:
    riders: int
    run: str = ""  # the run's name: its PostgreSQL schemas are <run> and <run>_rm
    stores: str = ""
    consumers: str = ""  # partitions a topic, and the read models with more than one instance
    events: int = 0
    commands: int = 0
    refused: int = 0
    setup_s: float = 0.0
    day_s: float = 0.0
    drain_s: float = 0.0
    day_events: int = 0
    peak_events_s: int = 0
    lag_ms: list[float] = field(default_factory=list)  # the day's commands
    lag_ms_joining: list[float] = field(default_factory=list)  # the riders joining, before the day
    lag_ms_by_model: dict[str, list[float]] = field(default_factory=dict)  # the day's, each read model's share
    peak_rss_mib: dict[str, float] = field(default_factory=dict)
    kills: int = 0
    broker_restarts: int = 0
    watchdog_restarts: dict[str, int] = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    totals: tuple[int, int, int] = (0, 0, 0)

    @property
    def passed(self) -> bool:
        return not self.mismatches and not self.crashes

    def lag(self, q: float, samples: list[float] | None = None) -> float:
        ordered = sorted(self.lag_ms if samples is None else samples)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("riders", f"{self.riders:,}"),
            ("stores, topics, logs", self.stores),
            ("partitions, consumers", self.consumers),
            ("events written", f"{self.events:,} ({self.day_events:,} in the day)"),
            ("commands (refused)", f"{self.commands:,} ({self.refused:,})"),
            ("wall time: city set up / day / drain", f"{self.setup_s:.0f} s / {self.day_s:.0f} s / {self.drain_s:.0f} s"),
            ("events/s in the day: sustained / peak second", f"{self.day_events / max(self.day_s, 1e-9):,.0f} / "
                                                             f"{self.peak_events_s:,}"),
            ("projection lag in the day p50 / p99 / max", f"{self.lag(0.5):,.0f} / {self.lag(0.99):,.0f} / "
                                                          f"{max(self.lag_ms, default=float('nan')):,.0f} ms "
                                                          f"({len(self.lag_ms):,} samples)"),
            ("the day's lag p99 by read model", ", ".join(
                f"{name} {self.lag(0.99, samples):,.0f}" for name, samples in sorted(
                    self.lag_ms_by_model.items(), key=lambda item: -self.lag(0.99, item[1])) if samples) + " ms"),
            ("projection lag as riders join p50 / max", f"{self.lag(0.5, self.lag_ms_joining):,.0f} / "
                                                        f"{max(self.lag_ms_joining, default=float('nan')):,.0f} ms"),
            ("peak RSS, MiB", ", ".join(f"{k} {v:,.0f}" for k, v in sorted(self.peak_rss_mib.items()))),
            ("chaos: kills / broker restarts", f"{self.kills} / {self.broker_restarts}"),
            ("workers that died on their own", "; ".join(self.crashes) or "none"),
            ("watchdog restarts", ", ".join(f"{k} {v}" for k, v in sorted(self.watchdog_restarts.items())) or "none"),
            ("awarded / reversed / paid, fen", " / ".join(f"{n:,}" for n in self.totals)),
            ("read models = a fresh fold; totals to the fen", "yes" if self.passed else "NO: " + "; ".join(
                self.mismatches)),
        ]


class Workers:
    """The relay and one consumer per read model, as processes, restartable by name."""

    def __init__(self, env: dict[str, str], logs: Path, instances: dict[str, int] | None = None) -> None:
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen] = {}  # type: ignore[type-arg]
        # Under a supervisor a worker waits out a broker restart, however long a loaded machine makes it
        # (by hand, `--wait-for-kafka` gives up after a minute and says so).
        wait = ["--wait-for-kafka", "600", "--supervisor-pid", str(os.getpid())]  # they end with this process
        self.args = {"relay": ["relay", *wait]}
        for name in CONSUMED:  # a second instance of a read model is `NAME.2`, in the same group
            for n in range(1, (instances or {}).get(name, 1) + 1):
                self.args[name if n == 1 else f"{name}.{n}"] = ["consume", name, *wait]
        self.peak_rss: dict[str, float] = {}
        self.crashes: list[str] = []  # workers that exited on their own: restarted, and said in the report
        self.lock = threading.Lock()

    def start(self, name: str) -> None:
        log = open(self.logs / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "api.cli", *self.args[name]], cwd=ROOT,
                                            env=self.env, stdout=log, stderr=log)

    def start_all(self) -> None:
        for name in self.args:
            self.start(name)

    def kill(self, name: str) -> None:
        with self.lock:
            self.sample_rss()  # its peak so far, before it is gone
            self.procs[name].send_signal(signal.SIGKILL)
            self.procs[name].wait()
            self.start(name)

    def restart_crashed(self) -> None:
        """What a supervisor (systemd, Kubernetes) does: start again a worker that died."""
        with self.lock:
            for name, proc in list(self.procs.items()):
                if proc.poll() is not None:
                    self.crashes.append(f"{name} exited {proc.returncode} (see {self.logs / (name + '.log')})")
                    self.start(name)

    def sample_rss(self) -> None:
        for name, proc in self.procs.items():
            rss = peak_rss_mib(proc.pid)
            if rss:
                self.peak_rss[name] = max(self.peak_rss.get(name, 0.0), rss)

    def stop_all(self, timeout_s: float = 60) -> None:
        self.sample_rss()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Sample:
    """One command's wait: the events each read model must have, and when each had them."""
    written: float  # monotonic
    waits: dict[str, list[tuple[str, int]]]  # read model → its (stream, version) of the command
    done: dict[str, float] = field(default_factory=dict)  # read model → monotonic time it had them all


class LagSampler:
    """Every `every_s`, the latest command written: the time until all its events are
    in every read model that handles them is one sample of the projection lag; the
    time until each read model has its share, a sample of that read model's."""

    def __init__(self, app: GridGovernance, store: ReadStore, latest: Callable[[], tuple[float, int] | None],
                 every_s: float = 0.25) -> None:
        self.app, self.store, self.latest, self.every_s = app, store, latest, every_s
        self.models = {name: cls() for name, cls in PROJECTIONS.items() if name in CONSUMED}
        self.samples: list[float] = []
        self.written: list[float] = []  # when each sample's command was written (monotonic)
        self.by_model: dict[str, list[tuple[float, float]]] = {name: [] for name in self.models}  # (written, ms)
        self.pending: list[Sample] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lag-sampler", daemon=True)

    def _run(self) -> None:
        next_take, taken = 0.0, None
        while not self.stop.is_set():
            now = time.monotonic()
            latest = self.latest()
            if now >= next_take and latest is not None and latest != taken:
                taken, next_take = latest, now + self.every_s
                self.pending.append(Sample(latest[0], self._waits_of(latest[1])))
            self._settle()
            self.stop.wait(0.02)

    def _waits_of(self, position: int) -> dict[str, list[tuple[str, int]]]:
        rows = self.app.transaction_at(position)
        events = [(stream, version, type_of_topic(topic)) for _, stream, version, topic, _ in rows]
        waits = {name: [(s, v) for s, v, kind in events if kind in model.types]
                 for name, model in self.models.items()}
        return {name: events for name, events in waits.items() if events}

    def _settle(self) -> None:
        """Each read model's samples oldest first, stopping at the first it has not yet
        got: a read model applies each partition in order, so the later ones are (nearly
        always) not in either, and looking costs it a query each. A later sample that got
        in first is timed when the one before it is: an upper bound, never an understatement."""
        for name, model in self.models.items():
            for sample in self.pending:
                if name not in sample.waits or name in sample.done:
                    continue
                if not tracking.applied(self.store, model, sample.waits[name]):
                    break
                sample.done[name] = time.monotonic()
        while self.pending and len(self.pending[0].done) == len(self.pending[0].waits):
            sample = self.pending.pop(0)
            for name, at in sample.done.items():
                self.by_model[name].append((sample.written, (at - sample.written) * 1000))
            self.samples.append((max(sample.done.values(), default=time.monotonic()) - sample.written) * 1000)
            self.written.append(sample.written)

    def __enter__(self) -> LagSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


class Chaos:
    """SIGKILL a random worker every few seconds, from the day's start until at least
    `wanted` kills are done and the day is over; restart the broker once on the way."""

    def __init__(self, workers: Workers, seed: int, kills: int, broker: bool, pace_s: tuple[float, float]) -> None:
        self.workers, self.rng = workers, random.Random(seed)
        self.wanted, self.broker, self.pace_s = kills, broker, pace_s
        self.kills = self.broker_restarts = 0
        self.failures: list[str] = []
        self.day_over, self.aborted = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, name="chaos", daemon=True)

    def _run(self) -> None:
        broker_at = self.rng.randint(max(1, self.wanted // 3), max(1, self.wanted // 2)) if self.broker else -1
        while not (self.day_over.is_set() and self.kills >= self.wanted):
            if self.aborted.wait(self.rng.uniform(*self.pace_s)):
                return
            if self.kills == broker_at:
                broker_at = -1  # once
                try:
                    restart_broker()
                    self.broker_restarts += 1
                except Exception as e:  # said in the report; the kills go on
                    self.failures.append(f"broker restart: {e}")
            self.workers.kill(self.rng.choice(sorted(self.workers.args)))
            self.kills += 1

    def start(self) -> None:
        self.thread.start()

    def finish(self, abort: bool = False) -> None:
        """The day is over: kill until `wanted` (or not, if `abort`), then stop."""
        self.day_over.set()
        if abort:
            self.aborted.set()
        if self.thread.is_alive():
            self.thread.join()


def restart_broker(away_s: float = 3.0) -> None:
    """Stop the broker of scripts/kafka.sh, leave it away for `away_s` (the clients must
    notice, not just reconnect), start it again and wait until it is ready."""
    kafka_script("stop")
    time.sleep(away_s)
    kafka_script("start")


def kafka_script(action: str, broker: dict[str, str] | None = None) -> None:
    """Readiness is waited for up to ten minutes, not the script's 90 s: a broker loads
    every partition it holds before it answers, and a loaded CI machine took longer.
    `broker`: the script's settings naming another broker than the environment's (its ports, its folder)."""
    env = {**os.environ, **(broker or {}), "KAFKA_START_TIMEOUT": "600"}
    done = subprocess.run(["bash", str(KAFKA_SCRIPT), action], capture_output=True, text=True, timeout=900, env=env)
    if done.returncode:
        raise RuntimeError(f"scripts/kafka.sh {action} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")


def child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(settings.as_env())
    return env


def totals_in_the_store(app: GridGovernance) -> tuple[int, int, int]:
    """Subsidy awarded, reversed and paid, added up from the events themselves."""
    kinds = {"SubsidyAwarded": 0, "SubsidyReversed": 1, "PayoutSettled": 2}
    sums = [0, 0, 0]
    after = 0
    while page := app.eventlog.page(after, 5000):
        for row in page:
            kind = type_of_topic(row[3])
            if kind in kinds:
                sums[kinds[kind]] += app.mapper.to_domain_event(stored_event(row)).fen
        after = page[-1][0]
    return sums[0], sums[1], sums[2]


def totals_in_the_read_model(store: ReadStore) -> tuple[int, int, int]:
    return subsidy_totals(store)


def wait_drained(app: GridGovernance, store: ReadStore, lag: KafkaLag, stall_s: float = 300) -> None:
    """Until the relay has published everything and every read model has all of it.
    Waits on progress: gives up only when nothing moved for `stall_s`."""
    models = [cls() for name, cls in PROJECTIONS.items() if name in CONSUMED]
    wait_for_none_behind(lambda: lag.relay_backlog(app) + sum(lag.of(store, model) for model in models), stall_s)


def wait_for_none_behind(count: Callable[[], int], stall_s: float, clock: Callable[[], float] = time.monotonic,
                         sleep: Callable[[float], None] = time.sleep) -> None:
    """Until `count()` is 0; raises once it has not gone below its lowest for `stall_s`."""
    fewest, moved = None, clock()
    while True:
        try:
            behind: int | None = count()
        except Exception:  # the broker restarting: keep waiting, for as long as it moves nothing
            behind = None
        if behind == 0:
            return
        # Progress is fewer behind than ever before: a count that only changes (an unanswered
        # look between two equal ones, the same records counted again) never ends the wait.
        if behind is not None and (fewest is None or behind < fewest):
            fewest, moved = behind, clock()
        elif clock() - moved > stall_s:
            raise RuntimeError(f"the pipeline stopped draining with {fewest} records behind")
        sleep(0.2)


def fresh_stores(settings: Settings, run: str, logs: Path) -> Settings:
    """`settings` pointed at empty stores and topics of this run's own."""
    if settings.PERSISTENCE_MODULE == "eventsourcing.postgres" or settings.readmodel_store == "postgres":
        import psycopg

        with psycopg.connect(settings.postgres_conninfo(), autocommit=True) as conn:
            for schema in (run, f"{run}_rm"):
                conn.execute(f"CREATE SCHEMA {schema}")
    return settings.model_copy(update={"POSTGRES_SCHEMA": run, "READMODEL_SCHEMA": f"{run}_rm",
                                       "KAFKA_TOPIC_PREFIX": run.replace("_", ""),
                                       "SQLITE_DBNAME": str(logs / "events.sqlite"),
                                       "READMODEL_SQLITE_DBNAME": str(logs / "readmodels.sqlite")})


def simulate(settings: Settings, riders: int, day: datetime, seed: int, chaos: bool, logs: Path,
             progress: Callable[[str, int, int, dict[str, str]], None], kills: int = 12,
             chaos_pace_s: tuple[float, float] = (2.0, 8.0), grids_per_street: int = 20,
             speed: float | None = None, keep_topics: bool = False,
             instances_of: dict[str, int] | None = None) -> Report:
    kafka_settings(settings)  # KafkaNotConfigured before anything is made
    run = f"sim_{uuid.uuid4().hex[:8]}"
    logs.mkdir(parents=True, exist_ok=True)
    settings = fresh_stores(settings, run, logs)
    prefix = settings.KAFKA_TOPIC_PREFIX
    clock = ManualClock(day)
    engine = bootstrap(settings, clock=clock, ids=SeededIds(seed))  # on the empty stores fresh_stores made
    app, store, lag = engine.app, engine.store, engine.kafka
    Projector(store, instances()).create_tables()
    workers = Workers(child_env(settings), logs, instances_of)
    report = Report(riders=riders, run=run, stores=f"{settings.PERSISTENCE_MODULE.split('.')[-1]}: {run}, {run}_rm; "
                                          f"topics {prefix}.*{'' if keep_topics else ' (deleted at the end)'}; logs {logs}")
    (logs / "stores.txt").write_text(report.stores + "\n")  # for whoever finds the run interrupted
    more = ", ".join(f"{name} ×{n}" for name, n in sorted((instances_of or {}).items()) if n > 1)
    report.consumers = f"{settings.KAFKA_PARTITIONS} a topic; {more or 'one instance a read model'}"
    stats: dict[str, str] = {}
    city = CityDay(app, clock, seed, riders, day, grids_per_street=grids_per_street, speed=speed,
                   progress=lambda done, total: progress("day", done, total, stats),
                   setup_progress=lambda done, total: progress("setup", done, total, stats))
    per_second: list[tuple[float, int]] = []
    workers.start_all()
    stop_meter = threading.Event()

    def meter() -> None:
        while not stop_meter.wait(1.0):
            per_second.append((time.monotonic(), app.head()))
            workers.restart_crashed()
            workers.sample_rss()
            if len(per_second) > 1:
                stats["ev/s"] = f"{per_second[-1][1] - per_second[-2][1]:,}"
            if sampler.samples:
                stats["lag"] = f"{sampler.samples[-1]:,.0f} ms"
            stats["kills"] = str(chaos_box.kills if chaos_box else 0)

    sampler = LagSampler(app, store, lambda: city.latest)
    chaos_box = Chaos(workers, seed, kills, broker=True, pace_s=chaos_pace_s) if chaos else None
    day_started = [float("inf")]

    def day_starts() -> None:
        day_started[0] = time.monotonic()
        if chaos_box:
            chaos_box.start()
    city.on_day_start = day_starts
    metering = threading.Thread(target=meter, daemon=True)
    try:
        metering.start()
        with sampler:
            summary = city.run()
            if chaos_box:
                chaos_box.finish()
            drain_start = time.monotonic()
            wait_drained(app, store, lag)
            report.drain_s = time.monotonic() - drain_start
        day = [when >= day_started[0] for when in sampler.written]
        report.lag_ms = [lag for lag, in_day in zip(sampler.samples, day) if in_day]
        report.lag_ms_joining = [lag for lag, in_day in zip(sampler.samples, day) if not in_day]
        report.lag_ms_by_model = {name: [lag for written, lag in samples if written >= day_started[0]]
                                  for name, samples in sampler.by_model.items()}
    finally:
        stop_meter.set()
        metering.join(timeout=30)
        if chaos_box:
            chaos_box.finish(abort=True)
        workers.stop_all()
    report.setup_s, report.day_s, report.day_events = city.setup_s, city.day_s, city.day_events
    report.events, report.commands, report.refused = app.head(), summary.commands, summary.refused
    report.kills = chaos_box.kills if chaos_box else 0
    report.broker_restarts = chaos_box.broker_restarts if chaos_box else 0
    report.peak_rss_mib = {**workers.peak_rss, "simulate": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    report.peak_events_s = max((b[1] - a[1] for a, b in zip(per_second, per_second[1:]) if a[0] >= day_started[0]),
                               default=0)
    report.watchdog_restarts = restarts(store)
    report.crashes = workers.crashes + (chaos_box.failures if chaos_box else [])
    report.mismatches = [str(m) for m in verify(app, store, [PROJECTIONS[n] for n in CONSUMED])]
    report.totals = totals_in_the_store(app)
    if (read := totals_in_the_read_model(store)) != report.totals:
        report.mismatches.append(f"subsidy totals: store {report.totals}, read model {read}")
    engine.close()
    if not keep_topics:
        delete_topics(kafka_settings(settings))
    return report
