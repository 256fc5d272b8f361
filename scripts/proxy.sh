#!/usr/bin/env bash
# Several `gridgov serve` instances behind one nginx (Debian's nginx-light), on 127.0.0.1 only:
# the API as a city's IT centre runs it, one address, any instance answering.
#
#   scripts/proxy.sh start    start the instances that are not running (one after another, each
#                             ready before the next), then nginx; again after a crash restarts the missing
#   scripts/proxy.sh stop     nginx, then each instance: SIGTERM, wait, then SIGKILL
#   scripts/proxy.sh status   each process; exit 0 when all are running
#   scripts/proxy.sh env      print GRIDGOV_URL (the proxy's address) for `eval`
#   scripts/proxy.sh logs [N] tail each instance's log and nginx's
#
# The instances take their settings from this environment, so they agree by construction;
# what must agree is listed in docs/operations.md ("Several API instances behind a proxy"):
# one PostgreSQL event store (PERSISTENCE_MODULE=eventsourcing.postgres, POSTGRES_*), one
# read-model store (its READMODEL_SCHEMA: read-your-writes, the pages' sessions), one
# GRIDGOV_JWT_SECRET or OIDC_*, one photo store, one AUDIT_KEY_FILE.
#
# Settings (environment):
#   PROXY_INSTANCES        2      how many `gridgov serve` (at most 9)
#   PROXY_PORT             18100  nginx; instance i listens on PROXY_PORT + i
#   PROXY_DATA_DIR         $GRIDGOV_CACHE/proxy/run   nginx.conf, pid files, logs
#   PROXY_SERVE_ARGS       --dev without OIDC_ISSUER (HS256 tokens of GRIDGOV_JWT_SECRET), else none
#   PROXY_PYTHON           the checkout's .venv/bin/python (runs `-m api.cli serve`)
#   PROXY_START_TIMEOUT    90     seconds to wait for each process
#   PROXY_STOP_TIMEOUT     15     seconds to wait after SIGTERM before SIGKILL
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TEMPLATE=$HERE/proxy/nginx.conf.template
HOST=127.0.0.1
PORT=${PROXY_PORT:-18100}
INSTANCES=${PROXY_INSTANCES:-2}
CACHE=${GRIDGOV_CACHE:-${HOME:-/var/tmp}/.cache/gridgov}/proxy
DATA=${PROXY_DATA_DIR:-$CACHE/run}
PYTHON=${PROXY_PYTHON:-$ROOT/.venv/bin/python}
START_TIMEOUT=${PROXY_START_TIMEOUT:-90}
STOP_TIMEOUT=${PROXY_STOP_TIMEOUT:-15}
READY_POLL=0.3

# shellcheck source=lib/service.sh
SERVICE=proxy
. "$HERE/lib/service.sh"

# --- one process at a time: service.sh's globals point at it ----------------------------

instance() {  # instance I: the lib's globals name `gridgov serve` number I
  local i=$1
  SERVICE="proxy: instance $i" SERVICE_NOUN="gridgov serve"
  INSTANCE_PORT=$((PORT + i))
  SERVICE_WHERE="on $HOST:$INSTANCE_PORT"
  SERVICE_NOT_READY="gridgov serve not answering /healthz on $HOST:$INSTANCE_PORT"
  SERVICE_MATCH="serve --host $HOST --port $INSTANCE_PORT"
  PIDFILE=$DATA/serve-$i.pid
  SERVICE_LOGS=("$DATA/serve-$i.log")
  READY_URL="http://$HOST:$INSTANCE_PORT/healthz"
}

front() {  # the lib's globals name nginx
  SERVICE="proxy: nginx" SERVICE_NOUN=nginx SERVICE_WHERE="on $HOST:$PORT"
  SERVICE_NOT_READY="nginx not answering on $HOST:$PORT"
  SERVICE_MATCH="-p $DATA/ -c $DATA/nginx.conf"
  PIDFILE=$DATA/nginx.master.pid
  SERVICE_LOGS=("$DATA/nginx.out" "$DATA/nginx-error.log")
  READY_URL="http://$HOST:$PORT/healthz"
}

is_ready() { http_ok "$READY_URL"; }

nginx_bin() { command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }

# --- start ----------------------------------------------------------------------------

check_settings() {
  [[ $INSTANCES =~ ^[1-9]$ ]] || die "PROXY_INSTANCES must be 1 to 9 (ports $((PORT + 1))..$((PORT + 9)))"
  # Instances on SQLite files would each keep their own writer lock and follower: only a
  # shared server is one store.
  [ "${PERSISTENCE_MODULE:-}" = eventsourcing.postgres ] ||
    die "the instances must share one store: set PERSISTENCE_MODULE=eventsourcing.postgres and POSTGRES_* (eval \"\$(bash scripts/postgres.sh env)\")"
  [ "${READMODEL_STORE:-postgres}" = postgres ] ||
    die "READMODEL_STORE=${READMODEL_STORE}: the instances must share the read models (and the pages' sessions) in PostgreSQL"
  # `serve --demo` without a secret makes one of its own: each instance would refuse the others' demo tokens.
  if [[ " $(serve_args) " == *" --demo "* ]] && [ -z "${GRIDGOV_JWT_SECRET:-}" ]; then
    die "--demo needs GRIDGOV_JWT_SECRET here (openssl rand -hex 32): one secret for every instance's demo tokens"
  fi
  if [ -z "${OIDC_ISSUER:-}" ] && [ -z "${GRIDGOV_JWT_SECRET:-}" ]; then
    die "set OIDC_ISSUER (the provider) or GRIDGOV_JWT_SECRET: one way for every instance to verify tokens"
  fi
  [ -x "$PYTHON" ] || die "no $PYTHON (bash scripts/venv.sh, or set PROXY_PYTHON)"
}

serve_args() {
  if [ -n "${PROXY_SERVE_ARGS+set}" ]; then echo "$PROXY_SERVE_ARGS"
  elif [ -z "${OIDC_ISSUER:-}" ]; then echo --dev
  fi
}

start_instance() {  # start_instance I
  instance "$1"
  already_running && return 0
  ports_free PROXY_PORT "$INSTANCE_PORT"
  local t0=$SECONDS
  # setsid: outlives this shell, its own process group (stop ends the group). 9>&-: not the lock.
  # The checkout as working directory: relative paths (var/photos) are the same for every instance.
  # shellcheck disable=SC2046
  (cd "$ROOT" && exec setsid "$PYTHON" -m api.cli serve --host "$HOST" --port "$INSTANCE_PORT" $(serve_args)) \
    </dev/null >"$DATA/serve-$1.log" 2>&1 9>&- &
  started $! "$t0" "log $DATA/serve-$1.log"
}

write_nginx_conf() {
  local servers="" i conf
  for ((i = 1; i <= INSTANCES; i++)); do
    servers+="        server $HOST:$((PORT + i)) max_fails=1 fail_timeout=10s;"$'\n'
  done
  conf=$(<"$TEMPLATE")
  conf=${conf//@DATA@/$DATA}
  conf=${conf//@PORT@/$PORT}
  conf=${conf//@SERVERS@/${servers%$'\n'}}
  printf '%s\n' "$conf" >"$DATA/nginx.conf"
}

write_problems() {  # the problems nginx answers itself, each in both languages, from the engine's words
  (cd "$ROOT" && "$PYTHON" - "$DATA/problems.conf") <<'PY'
import json, pathlib, sys
from api.http.language import TEXTS
# The English detail is the caller's own (language.words); nginx's are these.
OWN = {"body-too-large": (413, "a request body may hold at most 12 MiB here"),
       "no-instance-answered": (502, "the instance handling this request did not answer; it may or may not have "
                                     "been done. A command sent with an Idempotency-Key may be sent again with "
                                     "the same key: it is done once.")}
locations = []
for code, (status, english) in OWN.items():
    title_en, title_zh, detail_zh = TEXTS[code]
    for language, title, detail in (("en", title_en, english), ("zh", title_zh, detail_zh)):
        body = json.dumps({"type": f"urn:gridgov:problem:{code}", "title": title, "status": status,
                           "detail": detail}, ensure_ascii=False)
        assert not set("'$\\") & set(body), body  # inside nginx's single quotes, no variables
        locations.append(f"location = /@problem/{code}.{language}.json {{\n    internal;\n"
                         f"    default_type application/problem+json;\n"
                         f"    add_header Vary Accept-Language always;\n    return {status} '{body}';\n}}\n")
pathlib.Path(sys.argv[1]).write_text("".join(locations), encoding="utf-8")
PY
}

start_nginx() {
  front
  local nginx; nginx=$(nginx_bin)
  [ -n "$nginx" ] || ensure_tools nginx
  nginx=$(nginx_bin)
  write_nginx_conf
  write_problems
  if already_running; then
    # Running already: the upstream list may have changed (PROXY_INSTANCES): reload it.
    "$nginx" -p "$DATA/" -c "$DATA/nginx.conf" -e "$DATA/nginx-error.log" -s reload
    return 0
  fi
  ports_free PROXY_PORT "$PORT"
  "$nginx" -t -q -p "$DATA/" -c "$DATA/nginx.conf" -e "$DATA/nginx-error.log" >"$DATA/nginx.out" 2>&1 ||
    { show_logs 20; die "nginx refused $DATA/nginx.conf"; }
  local t0=$SECONDS
  setsid "$nginx" -p "$DATA/" -c "$DATA/nginx.conf" -e "$DATA/nginx-error.log" </dev/null >"$DATA/nginx.out" 2>&1 9>&- &
  started $! "$t0" "upstreams $HOST:$((PORT + 1))..$((PORT + INSTANCES))"
}

cmd_start() {
  check_settings
  mkdir -p "$DATA/tmp"
  SERVICE=proxy lock_start 300
  local i
  # One after another: the first to start on an empty schema makes the tables (and
  # `serve --demo` loads the demo's day once) before the next looks.
  for ((i = 1; i <= INSTANCES; i++)); do start_instance "$i"; done
  start_nginx
}

# --- stop / status -------------------------------------------------------------------

each_process() {  # each_process FUNCTION: nginx first (no new requests), then every instance there is a pid file of
  front; "$1"
  local f
  for f in "$DATA"/serve-*.pid; do
    [ -e "$f" ] || continue
    f=${f##*/serve-}; instance "${f%.pid}"; "$1"
  done
}

cmd_status_all() {
  local down=0
  front; cmd_status || down=1
  local i
  for ((i = 1; i <= INSTANCES; i++)); do instance "$i"; cmd_status || down=1; done
  return "$down"
}

cmd_logs() {
  local f
  for f in "$DATA"/serve-*.log "$DATA/nginx-error.log" "$DATA/access.log"; do
    [ -s "$f" ] || continue
    echo "----- $f"; tail -n "${1:-40}" "$f"
  done
}

case "${1:-}" in
  start) cmd_start ;;
  stop) [ -d "$DATA" ] && each_process cmd_stop; true ;;
  status) cmd_status_all ;;
  env) echo "export GRIDGOV_URL=http://$HOST:$PORT" ;;
  logs) cmd_logs "${2:-40}" ;;
  *) echo "usage: $0 start|stop|status|env|logs" >&2; exit 2 ;;
esac
