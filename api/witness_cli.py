"""`gridgov witness …`: a witness of transparency logs (C2SP tlog-witness), run apart from the log.

    gridgov witness keygen NAME --out FILE       a cosigning key; prints its verifier key (give it to logs)
    gridgov witness serve --name N --key FILE --state witness.db --port P --log <origin>=<vkey> …
    gridgov witness evidence --state witness.db  the log-signed checkpoints that contradict what it cosigned
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import typer
from rich.console import Console

witness = typer.Typer(help="A witness that cosigns transparency logs' checkpoints (C2SP tlog-witness).",
                      no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]{message}[/]")
    return typer.Exit(2)


@witness.command()
def keygen(name: str = typer.Argument(..., help="the witness's name, e.g. witness.wenjiang.example/1"),
           path: Path = typer.Option(..., "--out", help="where to write the key (not overwritten)")) -> None:
    """Make an Ed25519 cosigning key; print its verifier key (type 0x04) for the logs it witnesses."""
    from transparency.checkpoints import BadKey, save_key
    from transparency.cosignature import CosignatureSigner

    if path.exists():
        raise _fail(f"{path} exists; a witness key is never overwritten")
    try:
        signer = CosignatureSigner.generate(name)
    except BadKey as e:
        raise _fail(str(e)) from None
    save_key(path, signer.text())
    err.print(f"witness key written to {path} (keep it secret). Its verifier key:")
    out.print(signer.vkey())


@witness.command()
def serve(name: str = typer.Option(..., help="the witness's name, as in its key"),
          key: Path = typer.Option(..., help="the key file `gridgov witness keygen` wrote"),
          state: Path = typer.Option(Path("witness.db"), help="its SQLite state (made if absent)"),
          host: str = typer.Option("127.0.0.1", help="the address to listen on"),
          port: int = typer.Option(7380, min=0, max=65535, help="the port (0: any free one, printed)"),
          logs: list[str] = typer.Option(..., "--log", help="<origin>=<log verifier key>; repeat it")
          ) -> None:
    """Cosign checkpoints of the logs named, each only if it extends the last one cosigned."""
    import logging

    from transparency.checkpoints import BadKey, Verifier
    from transparency.cosignature import CosignatureSigner
    from transparency.witness.server import Witness, serve as run, stop
    from transparency.witness.state import WitnessState

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        signer = CosignatureSigner.parse(key.read_text())
    except OSError as e:
        raise _fail(f"cannot read the witness key {key}: {e.strerror}") from None
    except BadKey as e:
        raise _fail(f"{key}: {e}") from None
    if signer.name != name:
        raise _fail(f"the key in {key} is {signer.name!r}, not {name!r}")
    followed: dict[str, list[Verifier]] = {}
    for item in logs:
        origin, sep, vkey = item.partition("=")
        try:
            if not sep or not origin:
                raise BadKey("--log reads <origin>=<verifier key>")
            followed.setdefault(origin, []).append(Verifier.parse(vkey))
        except BadKey as e:
            raise _fail(f"--log {item}: {e}") from None
    witness = Witness(signer, followed, WitnessState(state))
    signal.signal(signal.SIGTERM, lambda *_: stop())
    signal.signal(signal.SIGINT, lambda *_: stop())
    run(witness, host, port, ready=lambda bound: (
        out.print(f"witness {name} listening on http://{host}:{bound} for {', '.join(followed)}; "
                  f"verifier key {signer.vkey()}"), sys.stdout.flush()))


@witness.command()
def evidence(state: Path = typer.Option(Path("witness.db"), help="the witness's SQLite state")) -> None:
    """Print the log-signed checkpoints that contradict one this witness cosigned; exit 1 if any."""
    from transparency.witness.state import WitnessState

    if not state.exists():
        raise _fail(f"no witness state at {state}")
    kept = WitnessState(state).evidence()
    if not kept:
        err.print("no evidence of a split view")
        return
    for item in kept:
        out.print(f"# {item.origin}: {item.kind} (seen at POSIX time {item.at})\n## cosigned before:\n{item.held_note}"
                  f"## signed by the log, not an extension of it:\n{item.note}## proof submitted:\n{item.proof}",
                  markup=False, highlight=False)
    raise typer.Exit(1)
