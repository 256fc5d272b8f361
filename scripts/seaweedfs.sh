#!/usr/bin/env bash
# A private S3-compatible object store (SeaweedFS, Apache-2.0) for tests and development,
# on 127.0.0.1 only: one `weed server` process (master, volume server, filer and S3 gateway).
# No Docker and no release download: `weed` is built from the Go module proxy.
#
#   scripts/seaweedfs.sh fetch    build `weed` into the cache (once; several minutes on 2 cores)
#   scripts/seaweedfs.sh start    fetch if needed, start, wait until an S3 write can succeed
#   scripts/seaweedfs.sh stop     SIGTERM, wait, then SIGKILL
#   scripts/seaweedfs.sh status   exit 0 if the server is running
#   scripts/seaweedfs.sh reset    stop and delete the data dir (every bucket)
#   scripts/seaweedfs.sh env      print the GRIDGOV_S3_* settings for `eval`
#   scripts/seaweedfs.sh logs     tail the server log
#
# Settings (environment):
#   SEAWEEDFS_VERSION        v0.0.0-20261109003541-7506e5f91cd6  (module github.com/seaweedfs/seaweedfs)
#   GRIDGOV_CACHE            ~/.cache/gridgov; `weed` goes to $GRIDGOV_CACHE/seaweedfs-$SEAWEEDFS_VERSION/bin
#   SEAWEEDFS_DATA_DIR       $GRIDGOV_CACHE/seaweedfs-$SEAWEEDFS_VERSION/run
#   SEAWEEDFS_S3_PORT        8333   the S3 gateway (master 9333, volume 8380, filer 8888; gRPC each +10000)
#   SEAWEEDFS_START_TIMEOUT  90     seconds to wait for readiness
#   SEAWEEDFS_STOP_TIMEOUT   30     seconds to wait after SIGTERM before SIGKILL
#
# The S3 identity is a fixed test key (below): this server is for tests and a developer's
# machine, bound to loopback; production sets its own GRIDGOV_S3_* for its own store.
# Everything lives outside the repo, so a fresh clone (CI) reuses the binary.
set -euo pipefail

VERSION=${SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}
MODULE=github.com/seaweedfs/seaweedfs
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

say() { echo "seaweedfs: $*"; }
die() { echo "seaweedfs: error: $*" >&2; exit 1; }

# --- fetch ------------------------------------------------------------------

ensure_go() {
  # A fresh machine may lack Go; the project's own files must install what it needs.
  command -v go >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Go from Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq golang-go >/dev/null
  else
    die "need go on PATH"
  fi
}

is_fetched() { [ -x "$BIN" ] && [ "$(cat "$CACHE/bin/.fetched" 2>/dev/null)" = "$VERSION" ]; }

cmd_fetch() {
  if is_fetched; then say "weed $VERSION already in $BIN"; return 0; fi
  if is_running; then die "server is running on a binary about to be replaced; run '$0 stop' first"; fi
  ensure_go
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
  mkdir -p "$CACHE/bin"
  mv "$tmp/weed" "$BIN"
  rm -rf "$tmp"
  echo "$VERSION" >"$CACHE/bin/.fetched"
  say "built weed ($(du -h "$BIN" | cut -f1)) in $((SECONDS - t0)) s into $BIN"
}

# --- process state ------------------------------------------------------------

server_pid() { [ -f "$PIDFILE" ] && cat "$PIDFILE"; }

is_running() {
  local pid; pid=$(server_pid 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a stale pid file whose pid the OS gave to another process.
  local cmdline; cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"server -dir=$STORE "* ]]
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

is_ready() {
  # The S3 gateway answers, and the master knows a volume server with room: before
  # that, the first PUT of a new bucket finds nowhere to grow a volume.
  curl -fsS -o /dev/null --max-time 2 "http://$HOST:$S3_PORT/readyz" 2>/dev/null || return 1
  curl -fsS --max-time 2 "http://$HOST:$MASTER_PORT/dir/status" 2>/dev/null | grep -q '"Max":[1-9]'
}

show_logs() { [ -s "$LOG" ] && { echo "----- last lines of $LOG" >&2; tail -n "${1:-40}" "$LOG" >&2; }; return 0; }

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

wait_ready() {
  local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_logs 60; rm -f "$PIDFILE"
      die "weed process $pid exited during startup (log above)"
    fi
    is_ready && return 0
    sleep 0.3
  done
  show_logs 60
  die "not ready on $HOST:$S3_PORT after ${START_TIMEOUT}s (still running as pid $pid; '$0 stop' to end it)"
}

cmd_start() {
  mkdir -p "$CACHE"
  # Two concurrent starts (parallel CI steps) must not launch two servers.
  exec 9>"$CACHE/.lock"
  flock -w 600 9 || die "timed out waiting for another seaweedfs.sh on $CACHE/.lock"

  if is_running; then
    wait_ready "$(server_pid)"
    say "already running (pid $(server_pid)) on $HOST:$S3_PORT"
    return 0
  fi
  local p
  for p in "$S3_PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT"; do
    port_open "$p" && die "port $p on $HOST is taken by another process (set SEAWEEDFS_*_PORT)"
  done
  if ! is_fetched; then cmd_fetch; fi
  command -v curl >/dev/null || die "need curl on PATH (the readiness probe)"
  mkdir -p "$DATA" "$STORE"
  touch "$MARKER"
  write_config

  local t0=$SECONDS pid
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
  pid=$!
  echo "$pid" >"$PIDFILE"
  wait_ready "$pid"
  say "ready on $HOST:$S3_PORT (pid $pid, $((SECONDS - t0)) s; data $DATA)"
}

# --- stop / status / reset ------------------------------------------------------

cmd_stop() {
  if ! is_running; then rm -f "$PIDFILE"; say "not running"; return 0; fi
  local pid; pid=$(server_pid)
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  say "stopped"
}

cmd_status() {
  if is_running; then
    if is_ready; then say "running (pid $(server_pid)) and ready on $HOST:$S3_PORT"
    else say "running (pid $(server_pid)) but not ready on $HOST:$S3_PORT"; fi
    return 0
  fi
  say "stopped"
  return 1
}

cmd_reset() {
  cmd_stop
  if [ -d "$DATA" ]; then
    # SEAWEEDFS_DATA_DIR could point anywhere; only delete what this script created.
    [ -f "$MARKER" ] || die "$DATA was not created by $0; not deleting it"
    rm -rf "$DATA"
  fi
  say "data dir $DATA removed"
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
