"""What a `gridgov` process costs before it does its work: the CPU of importing each command's modules,
beside the interpreter alone and the libraries underneath, in fresh processes.

    python bench/startup.py [--runs 9]

  python            `python -c pass`: the floor
  pydantic, fastapi, kafka   each library alone: what the engine cannot import for less
  cli               `import api.cli`: what `gridgov --help` and every command pay
  relay, consume, sequence, serve   what each worker imports before it starts its loop

CPU-s (user + system) of the process, median of `--runs`, and the ratio to the floor. A worker is
restarted after each crash and on each deploy, and the tests start some 450 of them in a full run.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

IMPORTS = {
    "python": "pass",
    "pydantic": "import pydantic.main",
    "fastapi": "import fastapi",
    "kafka": "import kafka",
    "cli": "import api.cli",
    "relay": "import api.cli; import gridgov.bootstrap, consumers.relay",
    "consume": "import api.cli; import gridgov.bootstrap, projections.registry, consumers.runner",
    "sequence": "import api.cli; import gridgov.bootstrap, transparency.sequencer",
    "serve": "import api.cli; import uvicorn, api.http.app, gridgov.bootstrap, api.http.provider_tokens",
}


def cpu_s(code: str) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    for code in IMPORTS.values():
        cpu_s(code)  # bytecode compiled and files in the page cache before any is timed
    # Interleaved, so that a busy moment of the machine falls on every row alike.
    samples: dict[str, list[float]] = {name: [] for name in IMPORTS}
    for _ in range(runs):
        for name, code in IMPORTS.items():
            samples[name].append(cpu_s(code))
    floor = statistics.median(samples["python"])
    print(f"{'process':10} {'CPU-s median':>13} {'min':>6} {'max':>6} {'× python':>9}")
    for name, xs in samples.items():
        median = statistics.median(xs)
        print(f"{name:10} {median:13.3f} {min(xs):6.3f} {max(xs):6.3f} {median / floor:9.1f}")


if __name__ == "__main__":
    main()
