#!/usr/bin/env bash
# The whole test suite, with the real services it needs (PostgreSQL, Kafka, S3, an OpenID Connect provider):
# README's second command, and what CI runs after installing. Arguments go to pytest (e.g. -k ledger).
#   scripts/test.sh --fast   the fast lane for one's own loop: the rules, properties, contracts and HTTP
#                            tests on the in-memory and SQLite backends, with no outside service (under 5 min)
# They run in GRIDGOV_TEST_WORKERS pytest-xdist workers: 2 for the fast lane, whose tests keep both cores
# busy; 3 for the full run, whose tests wait on brokers, servers and their own processes (18 min 22 s
# against 20 min 20 s with 2; 4 were slower, 24 min 32 s against 21 min 46 s: docs/testing.md). The full run then runs the tests marked `exclusive`
# alone (tests/fixtures/lanes.py says why).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/venv.sh test  # the tests run in .venv, as README command one runs the engine
export PATH="$PWD/.venv/bin:$PATH"  # `gridgov` and `python3` are the venv's

# The tests' own folders (pytest's tmp_path, every temporary file of theirs and of the processes they
# start) in memory when the machine has a tmpfs: a SQLite commit there does not wait on the disk (a demo
# day of tests/property/test_group_commit.py, the machine loaded: 8.0 s against 11.2 s on ext4). What
# the crash tests kill is a process, never the machine: its writes are in the page cache either way.
# Called after the services start, which keep their own folders. Removed when the run passes; kept
# for reading when it fails.
in_memory() {
  [[ -d /dev/shm && -w /dev/shm ]] || return 0
  TMPDIR=$(mktemp -d /dev/shm/gridgov-tests.XXXXXX)
  export TMPDIR
  trap 'rc=$?; if ((rc == 0)); then rm -rf "$TMPDIR"; else echo "this run'"'"'s folders are kept in $TMPDIR (in memory: remove it when read)" >&2; fi' EXIT
}

workers=(-n "${GRIDGOV_TEST_WORKERS:-3}")
if [[ "${1:-}" == "--fast" ]]; then
  shift
  workers=(-n "${GRIDGOV_TEST_WORKERS:-2}")
  unset PERSISTENCE_MODULE
  in_memory
  .venv/bin/python -m pytest "${workers[@]}" --lane=fast tests/unit tests/property tests/contracts \
    tests/integration/test_rules.py tests/e2e "$@"
  exit
fi
bash scripts/postgres.sh start
eval "$(bash scripts/postgres.sh env)"
# A broker this run starts has no other run's topics in use: the tests may delete what an aborted
# run left behind (tests/fixtures/kafka.py). A broker already running may be serving another run.
bash scripts/kafka.sh status >/dev/null 2>&1 || export GRIDGOV_SWEEP_TEST_TOPICS=1
bash scripts/kafka.sh start
# A second, independent Kafka client for the tests that read the topics as an outsider would.
# Headless Chromium and its driver for the page tests, and a Chinese font for their screenshots.
missing=()
command -v kcat >/dev/null || missing+=(kcat)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
[[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]] || missing+=(fonts-wqy-zenhei)
# Go, to build the outside verifier of the transparency log (transparency/verifier).
command -v go >/dev/null || missing+=(golang-go)
command -v curl >/dev/null || missing+=(curl)  # scripts/seaweedfs.sh's readiness probe
# nginx in front of two API instances (scripts/proxy.sh, tests/integration/test_behind_proxy.py).
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
if ((${#missing[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The OpenID Connect provider (Keycloak, realm scripts/keycloak/gridgov-realm.json) for sign-in and
# provider-signed tokens (tests/fixtures/keycloak.py), and the S3 object store (SeaweedFS) for the S3 runs
# of the blob-store contract (tests/fixtures/blobs.py). Fetched here; started in the background while the
# first tests run: the provider takes 38 s to be ready and the store 19 s, and most tests need neither. A
# test that needs one waits until its start has ended (tests/fixtures/services.py); a start that fails
# fails the run.
starts=()
start_in_background() {
  bash "scripts/$1.sh" start &
  export "GRIDGOV_STARTING_${1^^}=$!"
  starts+=("$1:$!")
}
for service in keycloak seaweedfs; do
  bash "scripts/$service.sh" fetch
  start_in_background "$service"
  eval "$(bash "scripts/$service.sh" env)"
done
unset GRIDGOV_BLOBS  # as PERSISTENCE_MODULE: the engine's default store stays the embedded one
unset PERSISTENCE_MODULE  # the suite picks a backend per test; the default stays the embedded one
in_memory

# The workers share the tests out a module at a time (a module's fixtures are made once, and the modules
# that listen on fixed ports each hold them in one worker); then the exclusive ones alone. Not
# `loadgroup`: pytest 9 ignores the group xdist 3.8 writes into a test's id, so groups were split.
# pytest exits 5 when it selected nothing: one part may select nothing (e.g. -k ledger), not both.
parallel=0 alone=0
# Each part prints its slowest tests, and the parallel part the tests that used the most CPU: where the
# next minutes of the run are to be won (both cores are busy all through it, tests/fixtures/cpu.py).
.venv/bin/python -m pytest "${workers[@]}" --dist loadfile --durations=30 --cpu-top=30 -m "not exclusive" "$@" \
  || parallel=$?
.venv/bin/python -m pytest --durations=10 -m exclusive "$@" || alone=$?
for start in "${starts[@]}"; do
  wait "${start#*:}" || { echo "scripts/${start%%:*}.sh start failed (its words above)" >&2; exit 1; }
done
for rc in "$parallel" "$alone"; do
  if ((rc != 0 && rc != 5)); then exit "$rc"; fi
done
if ((parallel == 5 && alone == 5)); then echo "no test ran" >&2; exit 5; fi
