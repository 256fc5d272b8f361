"""Two `gridgov witness serve` processes, over HTTP with the client the sequencer uses: a
checkpoint cosigned by both, a restarted witness holding what it cosigned, the insider's
rewrite refused by both (409 for the stale size, then 422: the proof does not verify) with the
log-signed evidence kept and listed by `gridgov witness evidence`."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.witnesses import Log, WitnessProcess, origin_hash
from transparency.cosignature import CosignatureVerifier
from transparency.witness import client
from transparency.witness.protocol import split_note


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def witnesses(tmp_path: Path, log: Log):  # type: ignore[no-untyped-def]
    started = [WitnessProcess(tmp_path / name, f"witness.test/{name}", [log]).start() for name in ("w1", "w2")]
    yield started
    for witness in started:
        witness.stop()


def cosign(witness: WitnessProcess, log: Log, old: int) -> str:
    [line] = client.add_checkpoint(witness.url, log.request(old), timeout_s=10)
    return line


def test_both_witnesses_cosign_and_serve_what_they_cosigned(witnesses: list[WitnessProcess], log: Log) -> None:
    log.grow(20)
    text = split_note(log.note())[0]
    for witness in witnesses:
        line = cosign(witness, log, 0)
        assert CosignatureVerifier(witness.vkey).verify(text, line) > 0
        served = httpx.get(f"{witness.url}/{origin_hash()}/checkpoint", timeout=10)
        assert served.status_code == 200
        assert served.text.startswith(log.note()) and served.text.endswith(line + "\n")
    log.grow(13)
    assert all(cosign(witness, log, 20) for witness in witnesses)


def test_a_restarted_witness_keeps_its_state(witnesses: list[WitnessProcess], log: Log) -> None:
    log.grow(9)
    cosign(witnesses[0], log, 0)
    assert witnesses[0].stop() == 0
    port = int(witnesses[0].url.rsplit(":", 1)[1])
    witnesses[0].start(port)
    with pytest.raises(client.Conflict) as conflict:
        client.add_checkpoint(witnesses[0].url, log.request(0), timeout_s=10)
    assert conflict.value.size == 9
    log.grow(1)
    assert cosign(witnesses[0], log, 9)


def test_the_rewrite_is_refused_by_both_and_the_evidence_kept(witnesses: list[WitnessProcess], log: Log) -> None:
    log.grow(40)
    for witness in witnesses:
        cosign(witness, log, 0)
    rewritten = log.fork(rewritten_from=17)  # the insider rewrites event 17 and re-signs the whole tree
    rewritten.grow(3)
    for witness in witnesses:
        with pytest.raises(client.Conflict) as conflict:
            client.add_checkpoint(witness.url, rewritten.request(0), timeout_s=10)
        assert conflict.value.size == 40
        with pytest.raises(client.Refused) as refused:
            client.add_checkpoint(witness.url, rewritten.request(40), timeout_s=10)
        assert refused.value.status == 422
    for witness in witnesses:
        listed = subprocess.run([sys.executable, "-m", "api.cli", "witness", "evidence", "--state", str(witness.state)],
                                capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "400"})
        assert listed.returncode == 1, listed.stderr
        assert split_note(rewritten.note())[0] in listed.stdout  # the log's own signed words
        assert rewritten.note().splitlines()[-1] in listed.stdout
        assert split_note(log.note(40))[0] in listed.stdout
    log.grow(2)
    assert all(cosign(witness, log, 40) for witness in witnesses)  # the honest log goes on


def test_answers_on_a_kept_alive_connection_do_not_wait_for_a_delayed_ack(witnesses: list[WitnessProcess],
                                                                          log: Log) -> None:
    """Headers and body were two writes: Nagle held the body for the client's delayed ACK, 40 ms an answer."""
    log.grow(3)
    cosign(witnesses[0], log, 0)
    times = []
    with httpx.Client() as keep_alive:
        for _ in range(15):
            started = time.perf_counter()
            keep_alive.get(f"{witnesses[0].url}/{origin_hash()}/checkpoint", timeout=10).raise_for_status()
            times.append(time.perf_counter() - started)
    assert statistics.median(times) < 0.025, f"median {statistics.median(times) * 1000:.1f} ms"
