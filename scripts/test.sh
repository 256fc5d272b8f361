#!/usr/bin/env bash
# The whole test suite, with the real services it needs (PostgreSQL, Kafka, S3, an OpenID Connect provider):
# README's second command, and what CI runs after installing. Arguments go to pytest (e.g. -k ledger).
#   scripts/test.sh --fast   the fast lane for one's own loop: unit, property and contract tests,
#                            on PostgreSQL but without Kafka, S3, the provider or a browser (a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/venv.sh test  # the tests run in .venv, as README command one runs the engine
export PATH="$PWD/.venv/bin:$PATH"  # `gridgov` and `python3` are the venv's

bash scripts/postgres.sh start
eval "$(bash scripts/postgres.sh env)"
if [[ "${1:-}" == "--fast" ]]; then
  shift
  unset PERSISTENCE_MODULE
  exec .venv/bin/python -m pytest tests/unit tests/property tests/contracts "$@"
fi
# A broker this run starts has no other run's topics in use: the tests may delete what an aborted
# run left behind (tests/fixtures/kafka.py). A broker already running may be serving another run.
bash scripts/kafka.sh status >/dev/null 2>&1 || export GRIDGOV_SWEEP_TEST_TOPICS=1
bash scripts/kafka.sh start
# The OpenID Connect provider (Keycloak, realm scripts/keycloak/gridgov-realm.json) for sign-in and
# provider-signed tokens (tests/fixtures/keycloak.py).
bash scripts/keycloak.sh start
eval "$(bash scripts/keycloak.sh env)"
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
if ((${#missing[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The S3 object store (SeaweedFS) for the S3 runs of the blob-store contract (tests/fixtures/blobs.py).
bash scripts/seaweedfs.sh start
eval "$(bash scripts/seaweedfs.sh env)"
unset GRIDGOV_BLOBS  # as PERSISTENCE_MODULE: the engine's default store stays the embedded one
unset PERSISTENCE_MODULE  # the suite picks a backend per test; the default stays the embedded one

# pytest exits 5 when it collected nothing: that is a failure here too.
exec .venv/bin/python -m pytest "$@"
