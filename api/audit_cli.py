"""`gridgov audit …`: the transparency log from the command line (docs/audit.md).

    gridgov audit keygen --out FILE       a signing key; prints its verifier key
    gridgov audit sequence [--once]       keep the tree caught up, signing checkpoints
    gridgov audit checkpoint              sign the tree now; prints the note (keep it)
    gridgov audit checkpoints [--json]    the signed checkpoints, largest first: size, time, root, cosigners
    gridgov audit prove inclusion …       that an event is in a checkpoint
    gridgov audit prove consistency …     that a checkpoint extends an earlier one
    gridgov audit verify [--checkpoint F] recompute the tree from the rows; exit 0, 1, 2 or 3
    gridgov audit export --district D --from YYYY-MM --to YYYY-MM [--format xlsx|csv] [--lang zh|en]
                                          a district's subsidy history for its auditors
    gridgov audit accesses --district D   who queried or exported it (the access log)
    gridgov audit mirror URL DIR [--key K] mirror the log's tiles, checking every root (api/audit_mirror.py)
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from api.audit_mirror import mirror

audit = typer.Typer(help="The transparency log: signed checkpoints, proofs, verification (docs/audit.md).",
                    no_args_is_help=True)
prove = typer.Typer(help="Proofs against signed checkpoints, as JSON.", no_args_is_help=True)
audit.add_typer(prove, name="prove")
audit.command("mirror")(mirror)
out = Console(soft_wrap=True)
err = Console(stderr=True)

# `gridgov audit verify` exit codes (docs/audit.md); `export` uses the first three.
# A tree of no leaves holds nothing against the log: not clean, nor altered either.
# UNWITNESSED: clean, but the newest checkpoint lacks the cosignatures the policy asks
# (only with --witnessed: a witness down is no damage to the log).
CLEAN, TAMPERED, BAD_INPUT, NOTHING_PROVEN, UNWITNESSED = 0, 1, 2, 3, 4


def _engine(feed: bool = False) -> Any:
    from gridgov.bootstrap import bootstrap
    from gridgov.settings import load_settings

    return bootstrap(load_settings(), feed=feed)


def _fail(message: str, code: int = BAD_INPUT) -> typer.Exit:
    err.print(f"[red]{message}[/]")
    return typer.Exit(code)


def _progress(label: str) -> Progress:
    return Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
                    TextColumn("[cyan]{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err, transient=True)


def _catch_up(engine: Any) -> int:
    """Bring the tree up to the log's head, with a progress bar."""
    sequencer = engine.tlog.sequencer()
    head, started = max(engine.app.head(), 1), time.perf_counter()
    with _progress("sequencing") as progress:
        bar = progress.add_task("sequence", total=head, completed=sequencer.position, rate="")

        def show(_: int) -> None:
            done = sequencer.position
            progress.update(bar, completed=done, rate=f"{done / (time.perf_counter() - started):,.0f} ev/s")

        return sequencer.catch_up(show)


@audit.command()
def keygen(path: Path = typer.Option(..., "--out", help="where to write the signing key (not overwritten)"),
           name: str = typer.Option(None, help="the key's name (default: AUDIT_ORIGIN)")) -> None:
    """Make an Ed25519 checkpoint signing key; print its verifier key for auditors."""
    from gridgov.settings import load_settings
    from transparency.checkpoints import BadKey, Signer, save_key

    if path.exists():
        raise _fail(f"{path} exists; a signing key is never overwritten")
    try:
        signer = Signer.generate(name or load_settings().AUDIT_ORIGIN)
    except BadKey as e:
        raise _fail(str(e)) from None
    save_key(path, signer.text())
    err.print(f"signing key written to {path} (keep it secret; set AUDIT_KEY_FILE={path}). Verifier key:")
    out.print(signer.verifier().text())


@audit.command("key")
def verifier_key() -> None:
    """Print the verifier key of AUDIT_KEY_FILE, to give to auditors."""
    engine = _engine()
    try:
        if engine.tlog.verifier is None:
            raise _fail("AUDIT_KEY_FILE is not set")
        out.print(engine.tlog.verifier.text())
    finally:
        engine.close()


@audit.command()
def sequence(once: bool = typer.Option(False, help="catch up (and sign a checkpoint), then exit")) -> None:
    """Keep the transparency log's tree caught up with the event store until
    SIGTERM/SIGINT, signing a checkpoint every AUDIT_CHECKPOINT_INTERVAL_S;
    with Kafka configured, each is published on <prefix>.checkpoints.v1."""
    import signal

    engine = _engine()
    try:
        if once:
            added = _catch_up(engine)
            note = _witnessed(engine, engine.tlog.checkpoint()).served if engine.tlog.signer else None
            err.print(f"sequenced {added:,} events; the tree has {engine.tlog.size():,} leaves")
            if note:
                out.print(note, end="")
            return
        from gridgov.bootstrap import checkpoint_publisher

        publish = checkpoint_publisher(engine.settings)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        err.print(f"sequencer: the tree has {engine.tlog.size():,} leaves, {engine.tlog.lag():,} events to add")
        engine.sequencing = engine.sequence(publish)
        while not stop.wait(5.0):
            pass
        err.print(f"sequencer: stopped; the tree has {engine.tlog.size():,} leaves")
    finally:
        engine.close()


def _witnessed(engine: Any, checkpoint: Any) -> Any:
    """The checkpoint offered to AUDIT_WITNESSES once, waiting for each to answer or fail
    (each request bounded by AUDIT_WITNESS_TIMEOUT_S); with the cosignatures it got."""
    from transparency.witnessing import CONFLICTS_PER_OFFER, Witnessing

    policy = engine.tlog.witnesses
    if not policy.witnesses:
        return checkpoint
    witnessing = Witnessing(engine.tlog, policy, engine.settings.AUDIT_WITNESS_TIMEOUT_S).start()
    try:
        witnessing.offer(checkpoint)
        deadline = time.monotonic() + engine.settings.AUDIT_WITNESS_TIMEOUT_S * CONFLICTS_PER_OFFER + 1
        while not witnessing.settled(checkpoint.size) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        witnessing.stop()
    kept = engine.tlog.at(checkpoint.size)
    got = policy.cosigners(kept)
    err.print(f"cosigned by {', '.join(got) or 'no witness'} ({len(got)} of {len(policy.names)}; "
              f"the policy asks {policy.k})", highlight=False)
    return kept


@audit.command()
def checkpoint() -> None:
    """Bring the tree up to date and sign a checkpoint of it now; print the signed
    note (an auditor keeps it, and later passes it to `verify --checkpoint`).
    Without a signing key it exits 2 before sequencing anything."""
    from transparency.log import AuditError, NoSigningKey

    engine = _engine()
    try:
        # Before sequencing: a command that fails changes nothing.
        if engine.tlog.signer is None:
            raise NoSigningKey("checkpoints are off: set AUDIT_KEY_FILE to a signing key "
                               "(gridgov audit keygen makes one); nothing was sequenced")
        _catch_up(engine)
        out.print(_witnessed(engine, engine.tlog.checkpoint()).served, end="")
    except AuditError as e:
        raise _fail(str(e)) from None
    finally:
        engine.close()


@audit.command("checkpoints")
def checkpoints_command(limit: int = typer.Option(20, min=1, max=100_000, help="how many, largest first"),
                        below: int = typer.Option(None, min=1, help="only those smaller than this size"),
                        as_json: bool = typer.Option(False, "--json", help="one JSON object a line")) -> None:
    """The signed checkpoints, largest first: size, time made, root, and the named
    witnesses whose cosignature of it verifies."""
    engine = _engine()
    try:
        policy = engine.tlog.witnesses
        rows = [{"size": c.size, "made_at": c.made_at, "root": c.root.hex(), "cosigners": policy.cosigners(c)}
                for c in engine.tlog.tree.recent(limit, below)]
    finally:
        engine.close()
    if as_json:
        for row in rows:
            out.print(orjson.dumps(row).decode(), highlight=False)
        return
    from rich.table import Table

    table = Table("size", "made (UTC)", "root (hex)", f"cosigners ({policy.k} of {len(policy.names)} asked)")
    for row in rows:
        table.add_row(f"{row['size']:,}", row["made_at"], row["root"], ", ".join(row["cosigners"]) or "—")
    out.print(table)


@prove.command("inclusion")
def prove_inclusion(position: int = typer.Option(None, min=1, help="the event's log position"),
                    stream: str = typer.Option(None, help="or its stream id …"),
                    version: int = typer.Option(None, min=1, help="… and version"),
                    size: int = typer.Option(None, min=1, help="a kept checkpoint's size (default: the latest)")) -> None:
    """That an event is in a signed checkpoint: its leaf and inclusion proof (JSON)."""
    if (position is None) == (stream is None or version is None):
        raise _fail("name the event by --position, or by --stream and --version")
    _print_proof(lambda tlog: tlog.inclusion(
        position if position is not None else tlog.position(_uuid(stream), version), size))


@prove.command("consistency")
def prove_consistency(old: int = typer.Option(..., min=1, help="the earlier checkpoint's size"),
                      new: int = typer.Option(None, min=1, help="the later one's (default: the latest)")) -> None:
    """That a later checkpoint extends an earlier one: the consistency proof (JSON)."""
    _print_proof(lambda tlog: tlog.consistency(old, new))


def _print_proof(prove: Any) -> None:
    """A proof from the engine's transparency log, as JSON on stdout; its refusal on stderr, exit 2."""
    from transparency.log import AuditError

    engine = _engine()
    try:
        sys.stdout.write(orjson.dumps(prove(engine.tlog).as_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    except AuditError as e:
        raise _fail(str(e)) from None
    finally:
        engine.close()


@audit.command("verify")
def verify_command(checkpoint: Path = typer.Option(None, "--checkpoint", help="a signed checkpoint you kept: "
                                                   "prove the log still extends it"),
                   key: str = typer.Option(None, help="the verifier key to check signatures with "
                                                      "(default: that of AUDIT_KEY_FILE)"),
                   deep: bool = typer.Option(False, help="also every stored leaf and subtree below 256 leaves "
                                                         "(reads the tree too; slower)"),
                   witnesses: str = typer.Option(None, help="the witnesses you trust, <url>=<vkey>,… "
                                                            "(default: AUDIT_WITNESSES)"),
                   policy: int = typer.Option(None, min=0, help="how many of them must cosign "
                                                                "(default: AUDIT_WITNESS_POLICY)"),
                   witnessed: bool = typer.Option(False, help="exit 4 when the log is clean but its newest "
                                                              "checkpoint is not witnessed")) -> None:
    """Recompute the tree from the stored rows and hold it against the stored tree,
    the signed checkpoints and a kept checkpoint, and say which witnesses cosigned the
    newest checkpoint. Exit 0: clean; 1: the log or the tree was altered (the first
    bad position is printed); 2: bad input; 3: nothing proven yet (the tree has no
    leaves: run `gridgov audit sequence --once`); 4 (with --witnessed): clean, but
    the newest checkpoint lacks the cosignatures the policy asks."""
    from gridgov.bootstrap import log_hasher
    from transparency.checkpoints import BadKey, BadNote, Verifier
    from transparency.verify import verify

    kept = None
    if checkpoint is not None:
        try:
            kept = checkpoint.read_text()
        except (OSError, UnicodeDecodeError) as e:
            raise _fail(f"cannot read the kept checkpoint {checkpoint}: {e}") from None
    engine = _engine()
    try:
        try:
            verifier = Verifier.parse(key) if key else engine.tlog.verifier
        except BadKey as e:
            raise _fail(f"--key: {e}") from None
        trusted = _trusted(engine.tlog.witnesses, witnesses, policy)
        head, started = max(engine.app.head(), 1), time.perf_counter()
        with _progress("verifying") as progress:
            bar = progress.add_task("verify", total=head, rate="")

            def show(position: int) -> None:
                progress.update(bar, completed=position,
                                rate=f"{position / (time.perf_counter() - started):,.0f} ev/s")

            try:
                report = verify(engine.app.eventlog, engine.tlog.tree, engine.tlog.decode, verifier, kept,
                                engine.settings.AUDIT_ORIGIN, show, deep, log_hasher(engine.settings))
            except BadNote as e:
                raise _fail(f"the kept checkpoint: {e}") from None
        newest = engine.tlog.tree.checkpoint()
    finally:
        engine.close()
    elapsed = time.perf_counter() - started
    for problem in report.problems:
        out.print(f"[red]{problem}[/]")
    summary = (f"{report.events:,} events, {report.tree_size:,} leaves, {report.checkpoints} checkpoint(s)"
               + (", and the kept one" if kept else "") + f" checked in {elapsed:.1f} s")
    if report.unsequenced:
        summary += f"; {report.unsequenced:,} newest events not yet in the tree"
    if report.clean and report.tree_size == 0:
        out.print(f"[yellow]nothing proven yet: run `gridgov audit sequence --once`[/] ({summary})")
        raise typer.Exit(NOTHING_PROVEN)
    if report.clean:
        out.print(f"clean: {summary}")
        met = _say_witnesses(newest, trusted)
        raise typer.Exit(UNWITNESSED if witnessed and not met else CLEAN)
    if report.first_bad is not None:
        out.print(f"first bad position: {report.first_bad}")
    out.print(f"[red]NOT clean[/]: {summary}")
    raise typer.Exit(TAMPERED)


def _trusted(configured: Any, witnesses: str | None, policy: int | None) -> Any:
    """The witness policy to hold the newest checkpoint to: the auditor's own, else the settings'."""
    from transparency.witnessing import BadWitnesses, WitnessPolicy

    try:
        return WitnessPolicy.parse(configured_text(configured) if witnesses is None else witnesses,
                                   configured.k if policy is None else policy)
    except BadWitnesses as e:
        raise _fail(f"--witnesses/--policy: {e}") from None


def configured_text(policy: Any) -> str:
    return ",".join(f"{w.url}={w.verifier.vkey}" for w in policy.witnesses)


def _say_witnesses(newest: Any, policy: Any) -> bool:
    """Who cosigned the newest checkpoint and how old it is; whether the policy is met."""
    from datetime import datetime, timezone

    if newest is None:
        out.print("no checkpoint signed yet")
        return policy.k == 0
    age = (datetime.now(timezone.utc) - datetime.fromisoformat(newest.made_at)).total_seconds()
    out.print(f"newest checkpoint: {newest.size:,} leaves, made {newest.made_at} ({_ago(age)} ago)")
    cosigners = policy.cosigners(newest)
    met = len(cosigners) >= policy.k
    verdict = "witnessed" if met else "[red]NOT witnessed[/]"
    out.print(f"cosigned by {', '.join(cosigners) or 'no witness'} ({len(cosigners)} of {len(policy.names)} named; "
              f"the policy asks {policy.k}): {verdict}", highlight=False)
    return met


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise _fail(f"--stream {text!r} is not a UUID") from None


@audit.command("export")
def export_command(district: str = typer.Option(..., help="the district, as its auditors' tokens name it (温江)"),
                   first: str = typer.Option(..., "--from", help="the first month, YYYY-MM"),
                   last: str = typer.Option(None, "--to", help="the last month, YYYY-MM (default: --from)"),
                   fmt: str = typer.Option("xlsx", "--format", help="xlsx, or csv (a ZIP of CSV files)"),
                   lang: str = typer.Option("zh", help="zh (中文表头) or en"),
                   path: Path = typer.Option(None, "--out", help="where to write it (default: a name of the "
                                                                 "district and months, here)"),
                   auditor: str = typer.Option(None, help="who is exporting, for the access log "
                                                          "(default: cli:<login name>)")) -> None:
    """A district's awards of some months, each with its whole chain, the payouts, totals
    per rider, grid and month, and the checkpoint that holds every row (docs/audit.md).
    Exit 0: written, and the totals re-add to the balances read model to the fen;
    1: written, but they do not (the differences are in the file); 2: bad input."""
    from domain.errors import InvalidInput
    from domain.events import Actor, Role
    from exports.build import Months, build
    from exports.files import filename, write
    from exports.names import riders_of
    from transparency.log import AuditError

    if fmt not in ("xlsx", "csv") or lang not in ("zh", "en"):
        raise _fail("--format is xlsx or csv; --lang is zh or en")
    try:
        months = Months.parse(first, last or first)
    except InvalidInput as e:
        raise _fail(str(e)) from None
    target = path or Path(filename(district, months, fmt))  # type: ignore[arg-type]
    if target.exists():
        raise _fail(f"{target} exists; an export is never overwritten: choose another --out")
    who = auditor or f"cli:{_login()}"
    engine = _engine(feed=True)
    try:
        _bring_read_models_up(engine)
        _catch_up(engine)
        with _progress("reading awards") as progress:
            bar = progress.add_task("awards", total=0, rate="")
            try:
                export = build(engine.store, engine.tlog, district, months, who,
                               progress=lambda done, total: progress.update(bar, completed=done, total=total),
                               rider_name=riders_of(engine.app))
            except AuditError as e:
                raise _fail(str(e)) from None
        target.write_bytes(write(export, fmt, lang))  # type: ignore[arg-type]
        engine.app.record_access(Actor(id=who, role=Role.AUDITOR), "gridgov audit export", {}, [district], 200,
                                 (export.checkpoint.size, export.checkpoint.root),
                                 query={"district": district, "from": months.first, "to": months.last,
                                        "format": fmt})
    finally:
        engine.close()
    signed = "signed" if export.checkpoint.note else "UNSIGNED (no AUDIT_KEY_FILE)"
    out.print(f"{target}: {export.awards:,} awards, {len(export.steps):,} chain steps, {len(export.payouts):,} "
              f"payouts of {district}, {months.first}…{months.last}, at the {signed} checkpoint of "
              f"{export.checkpoint.size:,} leaves")
    if export.reconciled:
        out.print("totals re-add to the balances read model, to the fen")
        raise typer.Exit(CLEAN)
    out.print(f"[red]{len(export.differences)} amounts differ from the balances read model[/] "
              "(see the differences sheet); `gridgov projections verify balances` tells which side is wrong")
    raise typer.Exit(TAMPERED)


@audit.command("accesses")
def accesses_command(district: str = typer.Option(..., help="the district"),
                     limit: int = typer.Option(50, min=1, max=10_000, help="how many, newest first")) -> None:
    """Who queried or exported a district's history, newest first (JSON lines)."""
    from projections.access import district_accesses

    engine = _engine(feed=True)
    try:
        _bring_read_models_up(engine)
        for access in district_accesses(engine.store, district, limit=limit):
            out.print(orjson.dumps(access).decode(), highlight=False)
    finally:
        engine.close()


def _bring_read_models_up(engine: Any) -> None:
    """Embedded, the read models are fed from the log here; with Kafka the consumers feed them."""
    if engine.feed is not None:
        engine.feed.catch_up()


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
