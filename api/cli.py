"""The `gridgov` command line.

One module, longer than most on purpose: every command with its options and
messages, in the order `gridgov --help` lists them. Each asks gridgov.bootstrap for
what it runs (the API app is made from the engine by api.http.app.app_of; the
relay, a consumer runner, the sequencer and the sweep are built there); the demo's
conveniences are in gridgov/first_run.py, whose people this module mints tokens for.
"""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
import time

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from api.audit_cli import audit
from api.backup_cli import add_commands as add_backup_commands
from api.witness_cli import witness
from domain.money import yuan
from gridgov.supervised import orphaned, stop_when_orphaned
from projections.registry import PROJECTIONS

NAMES = ", ".join(PROJECTIONS)  # listed in --help, so nobody has to guess them
GRACE_S = 3  # what open requests get to finish after SIGTERM

app = typer.Typer(help="Event-sourced grid governance: riders as mobile sentinels of Chengdu's micro-grids.",
                  no_args_is_help=True, add_completion=False)
out = Console(soft_wrap=True)
err = Console(stderr=True)
WAIT_FOR_KAFKA = "seconds to keep trying at start while the broker does not answer (it may be restarting)"
SUPERVISOR_PID = ("the process that started this one (its parent): stop, as at SIGTERM, once it is gone, "
                  "however it ended (`gridgov simulate` gives it to its workers)")


@app.command()
def demo(seed: int = typer.Option(7, help="same seed, same story, same summary"),
         riders: int = typer.Option(300, min=6, help="how many riders join the grids"),
         days: int = typer.Option(1, min=1, help="how many days to simulate"),
         reset: bool = typer.Option(False, help="delete the embedded SQLite store first (never PostgreSQL)")) -> None:
    """Simulate one day in six Chengdu districts on the configured store and summarise it."""
    from domain.clock import ManualClock
    from domain.ids import SeededIds
    from gridgov.bootstrap import application as build
    from gridgov.demo import DAY_START, Demo

    if reset:
        _reset_embedded_store()
    clock = ManualClock(DAY_START)
    application = build(_settings(), clock=clock, ids=SeededIds(seed))
    if application.head():
        err.print(f"[red]The store already holds {application.head()} events.[/] The demo tells its story on an empty "
                  "store; run [bold]gridgov demo --reset[/] to start the embedded store afresh.")
        raise typer.Exit(2)
    started = time.perf_counter()
    with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed}/{task.total} ticks"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True) as progress:
        bar = progress.add_task("day", total=1)
        summary = Demo(application, clock, seed, riders,
                       progress=lambda done, total: progress.update(bar, completed=done, total=total)).run(days)
    elapsed = time.perf_counter() - started
    _print_summary(summary, application)
    if _settings().embedded:
        _project_in_process(application)  # with Kafka, the consumers do it
    err.print(f"{summary.commands} commands in {elapsed:.1f} s ({summary.commands / elapsed:.0f}/s) on "
              f"{_settings().PERSISTENCE_MODULE}")
    application.close()


def _project_in_process(application) -> None:  # type: ignore[no-untyped-def]
    """Embedded mode: the read models are fed from the log in this process."""
    from gridgov.bootstrap import log_feed, read_store

    store = read_store(_settings())
    started = time.perf_counter()
    applied = log_feed(application, store).catch_up().applied
    err.print(f"read models: {applied:,} event applications in {time.perf_counter() - started:.1f} s")
    store.close()


def _reset_embedded_store() -> None:
    from gridgov.first_run import embedded_files

    files = embedded_files(_settings())
    if not files:
        err.print("[red]--reset only deletes the embedded SQLite store.[/] Empty PostgreSQL yourself if you mean it.")
        raise typer.Exit(2)
    for path in files:
        path.unlink(missing_ok=True)


def _print_summary(summary, application) -> None:  # type: ignore[no-untyped-def]
    out.print(f"[bold]A day in Chengdu[/]: {summary.riders} riders in {summary.grids} grids of 6 districts"
              if summary.days == 1 else
              f"[bold]{summary.days} days in Chengdu[/]: {summary.riders} riders in {summary.grids} grids of 6 districts")
    out.print(f"events written      {summary.events}")
    out.print(f"commands            {summary.commands} ({summary.refused} refused by the rules)")
    out.print(f"clues reported      {summary.clues} ({summary.duplicates_flagged} flagged as likely duplicates)")
    out.print("tasks               " + ", ".join(f"{k} {v}" for k, v in summary.tasks.items()))
    out.print(f"subsidy awarded     {yuan(summary.awarded_fen)} ({summary.awarded_fen} fen)")
    out.print(f"appeal              {summary.appeal}")
    table = Table(title="top balances", title_justify="left")
    table.add_column("rider")
    table.add_column("balance", justify="right")
    for rider, balance in summary.top_balances:
        table.add_row(str(rider), yuan(balance))
    out.print(table)


projections = typer.Typer(help="Read models: rebuild them from the event store, verify them against it.",
                          no_args_is_help=True)
app.add_typer(projections, name="projections")
app.add_typer(audit, name="audit")
app.add_typer(witness, name="witness")
add_backup_commands(app)  # gridgov backup, gridgov restore (api/backup_cli.py)


@projections.command("rebuild")
def projections_rebuild(name: str = typer.Argument(..., help=f"all, or one of: {NAMES}")) -> None:
    """Rebuild into a shadow copy while events keep arriving, then swap it in atomically."""
    from projections.registry import named
    from projections.engine.rebuild import rebuild

    classes = _named(named, name)
    application, store = _app_and_store()
    started = time.perf_counter()
    with Progress(TextColumn(f"rebuilding {name}"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
                  TextColumn("[cyan]{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as progress:
        bar = progress.add_task("rebuild", total=max(application.head(), 1), rate="")

        def show(position: int, head: int) -> None:
            elapsed = time.perf_counter() - started
            progress.update(bar, completed=position, total=max(head, 1), rate=f"{position / elapsed:,.0f} ev/s")

        report = rebuild(application, store, classes, progress=show, workers=_settings().REBUILD_WORKERS)
    elapsed = time.perf_counter() - started
    out.print(f"rebuilt {', '.join(report.names)}: {report.events:,} events applied in {elapsed:.1f} s, "
              f"live from position {report.position:,}")
    for projection, position, error in report.dead:
        out.print(f"[red]dead letter[/] {projection} at log position {position}: {error}")
    store.close()
    application.close()


@projections.command("verify")
def projections_verify(name: str = typer.Argument(..., help=f"all, or one of: {NAMES}")) -> None:
    """Compare read models with a fresh fold of the event store, and list the events
    they could not apply (dead letters); exit 1 on any difference or dead letter."""
    from projections.registry import named
    from projections.engine.projector import dead_letters
    from projections.engine.rebuild import verify

    classes = _named(named, name)
    application, store = _app_and_store()
    differences = verify(application, store, classes)
    for d in differences:
        out.print(f"[red]{d.projection}.{d.table}[/] key {d.key}: live {d.live} != fresh {d.fresh}")
    # A fresh fold fails on the same events the live copy did, so the two match:
    # the letters are what says a read model is missing something.
    counts, letters = dead_letters(store, [c.name for c in classes])
    for letter in letters:
        out.print(f"[red]dead letter[/] {letter.projection} at {letter.source} position {letter.position} "
                  f"({letter.event_type} {letter.stream_id} v{letter.version}): {letter.error.splitlines()[0]}")
    dead = sum(counts.values())
    verdict = []
    if differences:
        verdict.append(f"{len(differences)} difference(s)")
    if dead:
        verdict.append(f"{dead} dead letter(s) (" + ", ".join(f"{n} {p}" for p, n in sorted(counts.items()))
                       + "); fix the cause, then `gridgov projections rebuild`")
    out.print(f"{', '.join(c.name for c in classes)}: " + ("; ".join(verdict) or "match the event store"))
    store.close()
    application.close()
    raise typer.Exit(1 if differences or dead else 0)


def _named(named, name: str) -> list:  # type: ignore[no-untyped-def]
    try:
        return named(name)
    except ValueError as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from None


def _settings():  # type: ignore[no-untyped-def]
    """The environment's settings as the command starts (cheap to read; tests run
    several commands in one process, each with its own); a bad value stops the
    command in main() with one line."""
    from gridgov.settings import load_settings

    return load_settings()


def _app_and_store():  # type: ignore[no-untyped-def]
    from gridgov.bootstrap import bootstrap

    engine = bootstrap(_settings(), feed=False)
    return engine.app, engine.store


def _kafka_settings():  # type: ignore[no-untyped-def]
    from consumers.settings import KafkaNotConfigured
    from gridgov.bootstrap import kafka_settings

    try:
        return kafka_settings(_settings())
    except KafkaNotConfigured as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from None


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO is every connection's life story


def _stop_on_signals(supervisor: int | None = None) -> threading.Event:
    """SIGTERM and SIGINT finish the current batch, then stop cleanly; so does the end
    of the `supervisor` that started this process, however it ended."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if supervisor:
        stop_when_orphaned(stop, supervisor, lambda: err.print(f"the supervisor (pid {supervisor}) is gone: stopping"))
    return stop


@app.command()
def simulate(riders: int = typer.Option(75_000, min=6, help="riders in the city's grids"),
             day: str = typer.Option("2026-06-26", help="the day simulated (YYYY-MM-DD, China time)"),
             seed: int = typer.Option(7, help="same seed, same day"),
             speed: float = typer.Option(None, min=1, help="the day at this many times real time (e.g. 60: the "
                                                           "16 hours in 16 minutes); default as fast as it goes"),
             chaos: bool = typer.Option(False, help="SIGKILL and restart the relay and consumers at random "
                                                    "moments (at least --kills), and restart the broker once"),
             kills: int = typer.Option(12, min=1, help="with --chaos: how many workers to kill"),
             logs: str = typer.Option("var/simulate", help="where the workers' logs go"),
             keep_topics: bool = typer.Option(False, help="keep the run's topics (deleted at the end by default: "
                                                          "every partition kept slows the broker's next start)"),
             instances: list[str] = typer.Option([], help="NAME=N: N consumers of read model NAME in its group "
                                                          "(each takes a share of the partitions, KAFKA_PARTITIONS); "
                                                          "again for another")
             ) -> None:
    """One day of the whole city through the real pipeline: this process writes the commands, `gridgov relay`
    and one `gridgov consume` per read model run as processes; a report at the end (docs/scaling.md)."""
    from datetime import date as date_, datetime
    from pathlib import Path

    from domain.clock import CHINA
    from gridgov.simulate import CONSUMED, simulate as run

    _kafka_settings()  # says it in one line when Kafka is not configured
    per_model: dict[str, int] = {}
    for asked in instances:
        name, _, count = asked.partition("=")
        if name not in CONSUMED or not count.isdigit() or not 1 <= int(count) <= 8:
            err.print(f"[red]--instances takes NAME=N, a read model of {', '.join(CONSUMED)} and N from 1 to 8, "
                      f"not {asked!r}[/]")
            raise typer.Exit(2)
        per_model[name] = int(count)
    try:
        when = datetime.combine(date_.fromisoformat(day), datetime.min.time(), CHINA).replace(hour=7)
    except ValueError:
        err.print(f"[red]--day takes a date as YYYY-MM-DD, not {day!r}[/]")
        raise typer.Exit(2) from None
    _quiet_kafka_logs()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=err) as progress:
        bars: dict[str, object] = {}

        def show(phase: str, done: int, total: int, stats: dict[str, str]) -> None:
            if phase not in bars:
                bars[phase] = progress.add_task("riders join" if phase == "setup" else "the day (5-min ticks)",
                                                total=total, stats="")
            progress.update(bars[phase], completed=done, total=total,  # type: ignore[arg-type]
                            stats="  ".join(f"{k} {v}" for k, v in stats.items()))
        folder = Path(logs) / time.strftime("%Y%m%d-%H%M%S")
        # SIGTERM (a CI job's timeout, `kill`) ends the run as Ctrl-C does: through the `finally`
        # that stops the workers, not at once with them left running.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            report = run(_settings(), riders, when, seed, chaos, folder, show,
                         kills=kills, speed=speed, keep_topics=keep_topics, instances_of=per_model)
        except KeyboardInterrupt:
            progress.stop()
            err.print(f"[red]simulate: interrupted; its workers are stopped. The run's stores and topics are left "
                      f"as they were: {folder / 'stores.txt'} names them[/]")
            raise typer.Exit(130) from None
    table = Table(title=f"gridgov simulate: {riders:,} riders, {day}" + (", with chaos" if chaos else ""))
    table.add_column("measure")
    table.add_column("value", justify="right")
    for measure, value in report.rows():
        table.add_row(measure, value)
    Console().print(table)
    raise typer.Exit(0 if report.passed else 1)


def _quiet_kafka_logs() -> None:
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # its reconnection chatter would cover the bar


@app.command()
def relay(once: bool = typer.Option(False, help="publish what is there, then exit"),
          wait_for_kafka: float = typer.Option(60, min=0, help=WAIT_FOR_KAFKA),
          supervisor_pid: int = typer.Option(None, help=SUPERVISOR_PID)) -> None:
    """Publish the event store's log to Kafka from the durably tracked position."""
    from gridgov import bootstrap

    kafka = _kafka_settings()
    _log_to_stderr()
    settings = _settings()
    application = bootstrap.application(settings)
    worker = _once_kafka_answers("relay", kafka, lambda: bootstrap.relay(settings, application), wait_for_kafka,
                                 supervisor_pid)
    if once:
        while worker.publish_once():
            pass
    else:
        err.print(f"relay: from position {worker.position():,} to {kafka.bootstrap} (lag {worker.lag():,})")
        worker.run(_stop_on_signals(supervisor_pid))
    err.print(f"relay: stopped at position {worker.position():,}, lag {worker.lag():,}, "
              f"published {worker.stats.published:,}, dead letters {worker.stats.dead}")
    worker.close()
    application.close()


@app.command()
def consume(name: str = typer.Argument(..., help=f"the projection this consumer group maintains: one of {NAMES}"),
            reset_to: str = typer.Option(None, help="earliest, latest, or an ISO-8601 time: move the stored "
                                                    "offsets there first"),
            wait_for_kafka: float = typer.Option(60, min=0, help=WAIT_FOR_KAFKA),
            supervisor_pid: int = typer.Option(None, help=SUPERVISOR_PID)) -> None:
    """Run one projection's consumer group until SIGTERM/SIGINT."""
    from gridgov import bootstrap
    from projections.registry import named

    if name == "all":
        err.print(f"[red]one consumer group per projection: name one of {NAMES}[/]")
        raise typer.Exit(2)
    _named(named, name)
    kafka = _kafka_settings()
    _log_to_stderr()
    settings = _settings()
    store = bootstrap.read_store(settings)
    runner = _once_kafka_answers(f"consume {name}", kafka, lambda: bootstrap.consumer_runner(settings, store, name),
                                 wait_for_kafka, supervisor_pid)
    if reset_to:
        try:
            runner.reset(reset_to)
        except ValueError:
            err.print(f"[red]--reset-to takes earliest, latest or an ISO-8601 time, not {reset_to!r}[/]")
            raise typer.Exit(2) from None
    err.print(f"consume {name}: group {runner.group}, topics {', '.join(runner.topics)}")
    runner.run(_stop_on_signals(supervisor_pid))
    err.print(f"consume {name}: stopped; applied {runner.stats.applied:,}, duplicates dropped "
              f"{runner.stats.duplicates:,}, dead letters {runner.stats.dead_letters:,}")
    runner.close()
    store.close()


@app.command()
def sweep(every: float = typer.Option(0, min=0, help="seconds between sweeps; 0: sweep once and exit"),
          points_month: str = typer.Option(None, help="YYYY-MM, a month that has ended: apply the districts' points "
                                                      "expiry policies for it (with --every: done by itself for "
                                                      "the month just ended, once per month)")) -> None:
    """The engine's own sweep: end the holds and release the task claims whose time ran out, remove photos never
    cited a day after their upload, and apply points expiry policies at month end."""
    from domain.clock import local_month, month_before
    from domain.time_bounds import MONTH_PATTERN
    from gridgov import bootstrap

    settings = _settings()
    application = bootstrap.application(settings)
    if points_month is not None:
        ended = re.fullmatch(MONTH_PATTERN, points_month) and points_month < local_month(
            application.clock.now())
        if not ended:
            err.print(f"[red]--points-month takes a month that has ended, as YYYY-MM, not {points_month!r}[/]")
            raise typer.Exit(2)
    store = bootstrap.read_store(settings)
    sweeper = bootstrap.sweep(settings, application, store)
    stop = _stop_on_signals()
    swept_month = None
    while True:
        sweeper.catch_up()  # embedded; with Kafka, the consumers keep the read models
        holds = sweeper.holds()
        if holds.holds_expired or holds.skipped or not every:
            err.print(f"sweep: {holds.holds_expired} holds ended, {holds.skipped} already closed")
        claims = sweeper.claims()
        if claims.claims_released or claims.skipped or not every:
            err.print(f"sweep: {claims.claims_released} claims released, {claims.skipped} already moved on")
        swept = sweeper.photos()
        if swept.photos_removed or swept.skipped or not every:
            err.print(f"sweep: {swept.photos_removed} photos never cited removed, {swept.skipped} cited meanwhile")
        if swept.orphans_removed:
            err.print(f"sweep: {swept.orphans_removed} photos' bytes no upload named removed")
        month = points_month or (month_before(local_month(application.clock.now()), 1) if every else None)
        if month and month != swept_month:
            with Progress(TextColumn("points policies " + month), BarColumn(), TextColumn("{task.completed}/"
                          "{task.total} riders"), TimeElapsedColumn(), console=err, transient=True) as progress:
                bar = progress.add_task("riders", total=None)
                done = sweeper.points(month, lambda n, total: progress.update(bar, completed=n, total=total))
            err.print(f"sweep: {month}: {done.points_expired:,} points expired over {done.riders_checked:,} riders")
            swept_month = month
        if not every or stop.wait(every):
            break
    store.close()
    application.close()


@app.command()
def token(role: str = typer.Option(..., help="rider, grid_officer, district_admin, auditor, service or partner"),
          sub: str = typer.Option(..., help="subject: the rider's or partner's id, or the officer's / admin's id"),
          district: list[str] = typer.Option([], help="a district the token covers (repeatable)"),
          grid: list[str] = typer.Option([], help="a grid id an officer's token covers (repeatable)"),
          ttl_hours: int = typer.Option(12, min=1)) -> None:
    """Mint a development token signed with GRIDGOV_JWT_SECRET."""
    from api.http.auth import mint
    from domain.events import Role

    settings = _settings()
    secret = settings.GRIDGOV_JWT_SECRET
    if not secret:
        err.print("[red]GRIDGOV_JWT_SECRET is not set: there is nothing to sign the token with.[/]")
        raise typer.Exit(2)
    if settings.OIDC_ISSUER:
        err.print("[yellow]OIDC_ISSUER is set: a server with it takes the identity provider's tokens alone, not "
                  "this one (a service asks the provider by the client-credentials grant: docs/signin.md).[/]")
    try:
        principal_role = Role(role)
    except ValueError:
        err.print(f"[red]no role {role!r}; choose one of rider, grid_officer, district_admin, auditor, service, "
                  "partner[/]")
        raise typer.Exit(2) from None
    if principal_role is Role.SYSTEM:
        err.print("[red]the system role is the engine's own; no token carries it[/]")
        raise typer.Exit(2)
    out.print(mint(secret, sub, principal_role, district, grid, ttl_hours * 3600))


@app.command()
def serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000),
          demo: bool = typer.Option(False, help="a throw-away signing secret, demo tokens printed, and the "
                                                "demo's day loaded into an empty store"),
          oidc: bool = typer.Option(False, help="with --demo: the identity provider's tokens too (OIDC_ISSUER, "
                                                "or the local Keycloak of scripts/keycloak.sh)"),
          dev: bool = typer.Option(False, help="development and tests: no provider, HS256 tokens of "
                                               "GRIDGOV_JWT_SECRET (gridgov token mints them); never in production")
          ) -> None:
    """Serve the HTTP API. Embedded default: read models fed in-process from the log. With OIDC_ISSUER
    set, the API takes the identity provider's tokens alone (docs/signin.md)."""
    import secrets

    import uvicorn

    from api.http.app import app_of
    from api.http.provider_tokens import LOCAL_KEYCLOAK, trusted
    from gridgov.bootstrap import bootstrap

    settings = _settings()
    if oidc and not settings.OIDC_ISSUER:
        if not demo:
            err.print("[red]--oidc without OIDC_ISSUER is for the demo alone[/] (the local Keycloak); set "
                      "OIDC_ISSUER to your identity provider's issuer URL.")
            raise typer.Exit(2)
        settings = settings.model_copy(update=LOCAL_KEYCLOAK)
    secret = settings.GRIDGOV_JWT_SECRET
    # HS256 tokens are the demo's and the tests': a server that forgot its provider does not
    # quietly run on a secret that can mint any token.
    if not demo and not settings.OIDC_ISSUER and not (dev and secret):
        err.print("[red]OIDC_ISSUER is not set.[/] Refusing to serve without the identity provider "
                  "(docs/signin.md); or run [bold]gridgov serve --demo[/] for a throw-away secret, or "
                  "[bold]--dev[/] with GRIDGOV_JWT_SECRET for development tokens.")
        raise typer.Exit(2)
    if dev and not demo and not settings.OIDC_ISSUER:
        err.print("[yellow]development server: HS256 tokens of GRIDGOV_JWT_SECRET, no identity provider[/]")
    # With a provider, HS256 tokens are the demo's alone: GRIDGOV_JWT_SECRET is not trusted then.
    secret = (secret or secrets.token_urlsafe(32)) if demo else None if settings.OIDC_ISSUER else secret
    _log_to_stderr()
    listening = _listen(host, port)  # first: a taken port is one line, before any work
    port = listening.getsockname()[1]
    engine = bootstrap(settings)  # `gridgov relay` and `gridgov consume` feed the read models, with Kafka
    tokens = _demo_tokens(engine, secret) if demo else {}
    out.print(f"serving on http://{host}:{port}/docs (OpenAPI at /openapi.json)")
    if demo:  # one link: each page signs in at 登录 (the provider's, or the demo's people to choose from)
        at = "at the identity provider" if settings.OIDC_ISSUER else "as someone of the demo"
        out.print(f"pages: http://{host}:{port}/ (登录: sign in {at})")
    try:
        # Event-stream clients never hang up by themselves: after SIGTERM they get a few
        # seconds, then their streams are cut, so a stop is a stop.
        # The chooser's people: everyone of the demo but the service, which has no page.
        people = {role: token for role, token in tokens.items() if role != "service"}
        uvicorn.Server(uvicorn.Config(app_of(engine.follow(), trusted(settings, secret), demo_people=people),
                                      log_level="warning",
                                      timeout_graceful_shutdown=GRACE_S)).run(sockets=[listening])
    finally:
        engine.close()


def _listen(host: str, port: int):  # type: ignore[no-untyped-def]
    """The server's socket, bound and listening (connections wait in its queue until
    the app is up), or one clear line and exit 2."""
    import socket

    # IPPROTO_TCP named: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose proto
    # says TCP, and connections accepted here inherit a 0; with Nagle on, every answer
    # after the first on a kept-alive connection waited for the client's delayed ACK (Linux's 40 ms timer).
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as e:
        sock.close()
        err.print(f"[red]cannot listen on {host}:{port}: {e.strerror or e}[/] (another server there? choose "
                  "another --port)")
        raise typer.Exit(2) from None
    return sock


def _demo_tokens(engine, secret: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """serve --demo: the demo's day first if the store is empty, a token per role
    (printed, for programs), and one for a partner of the demo's district (the chooser's only)."""
    from api.http.auth import mint
    from gridgov.first_run import demo_partner, demo_people, load_demo_day

    if not engine.app.head():
        err.print("empty store: loading the demo's day in Chengdu (gridgov demo --seed 7) …")
        err.print(f"loaded {load_demo_day(engine.settings).events:,} events")
    tokens = {role: mint(secret, who.sub, who.role, list(who.districts), list(who.grids))
              for role, who in demo_people(engine.app).items()}
    out.print("demo tokens (send as Authorization: Bearer <token>):")
    for role, value in tokens.items():
        out.print(f"  {role:15} {value}")
    if partner := demo_partner(engine.app):
        tokens["partner"] = mint(secret, partner.sub, partner.role, list(partner.districts))
    return tokens


@app.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as pkg_version

    out.print(pkg_version("gridgov"))


def main() -> None:
    from eventlog.postgres_schema import SchemaMissing
    from gridgov.settings import SettingsError

    try:
        app()
    except (SettingsError, SchemaMissing) as e:
        print(f"gridgov: bad setting: {e}", file=sys.stderr)  # one line, unwrapped
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:
        if not _kafka_unreachable(e):
            raise
        servers = _settings().KAFKA_BOOTSTRAP_SERVERS
        print(f"gridgov: cannot reach Kafka at {servers} ({e}); is the broker running? "
              "(bash scripts/kafka.sh start)", file=sys.stderr)
        sys.exit(1)


def _once_kafka_answers(who: str, settings, make, wait_s: float = 60,  # type: ignore[no-untyped-def]
                        supervisor: int | None = None):
    """`make()`, tried again for up to `wait_s` while the broker does not answer: a
    worker (re)started while the broker restarts should wait for it, not exit."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return make()
        except Exception as e:
            if not _kafka_unreachable(e) or time.monotonic() > deadline or orphaned(supervisor):
                raise
            err.print(f"{who}: Kafka at {settings.bootstrap} does not answer ({type(e).__name__}); trying again "
                      f"for up to {wait_s:.0f} s")
            time.sleep(2)


def _kafka_unreachable(e: Exception) -> bool:
    from kafka.errors import KafkaConnectionError, KafkaTimeoutError

    return isinstance(e, (KafkaConnectionError, KafkaTimeoutError))


if __name__ == "__main__":
    main()
