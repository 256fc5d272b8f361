# Process handling shared by the service scripts (kafka.sh, seaweedfs.sh, keycloak.sh):
# one private server process per script, on 127.0.0.1, found again through a pid file.
# Sourced, not run. The script sets, before calling anything here:
#   SERVICE        its name, for messages and the lock's ("kafka")
#   SERVICE_NOUN   what the process is, for messages ("broker")
#   SERVICE_WHERE  where it answers, for messages ("on 127.0.0.1:9092", "at http://...")
#   SERVICE_NOT_READY  how "not ready" reads for it ("realm gridgov not answering at ...")
#   SERVICE_MATCH  a piece of its /proc cmdline that only this service's process has
#   SERVICE_LOGS   array of log files worth showing when it fails to start
#   HOST PIDFILE CACHE START_TIMEOUT STOP_TIMEOUT READY_POLL (seconds between probes)
# and defines is_ready (exit 0 when the service can do its work).

say() { echo "$SERVICE: $*"; }
die() { echo "$SERVICE: error: $*" >&2; exit 1; }

# --- prerequisites --------------------------------------------------------

# Debian package for each tool a script may need.
tool_package() {
  case "$1" in
    java) echo default-jdk-headless ;;
    mvn) echo maven ;;
    go) echo golang-go ;;
    *) echo "$1" ;;  # unzip, curl
  esac
}

ensure_tools() {  # ensure_tools CMD...: install the missing ones (as root with apt), else die
  # A fresh machine may lack them; the project's own files must install what it needs.
  local c packages=()
  for c in "$@"; do command -v "$c" >/dev/null || packages+=("$(tool_package "$c")"); done
  [ "${#packages[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${packages[*]} from Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    die "need $* on PATH"
  fi
}

java_major() {
  # `java -version` prints e.g. 'openjdk version "17.0.15"' (or "1.8.0_x" for 8).
  # awk reads to the end rather than `exit`: an early exit could SIGPIPE java,
  # and under pipefail that would abort the whole script.
  java -version 2>&1 | awk -F'"' '/version/ && !done { split($2, v, "."); print (v[1] == 1 ? v[2] : v[1]); done = 1 }'
}

ensure_java17() {  # ensure_java17 WHAT: Kafka 4 and Keycloak 26 refuse older JVMs
  local major; major=$(java_major)
  if [ -z "$major" ] || [ "$major" -lt 17 ]; then
    die "$1 needs Java 17+, found: $(java -version 2>&1 | head -n 1)"
  fi
}

# --- process state ------------------------------------------------------------

service_pid() { [ -f "$PIDFILE" ] && cat "$PIDFILE"; }

is_running() {
  local pid; pid=$(service_pid 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a stale pid file whose pid the OS gave to another process.
  local cmdline; cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$SERVICE_MATCH"* ]]
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

ports_free() {  # ports_free HINT PORT...: die when another process holds one of them
  local hint=$1 p; shift
  for p in "$@"; do
    port_open "$p" && die "port $p on $HOST is taken by another process (set $hint)"
  done
  return 0
}

http_ok() {  # http_ok URL: exit 0 when it answers 2xx
  if command -v curl >/dev/null; then
    curl -fsS -o /dev/null --max-time 5 "$1" 2>/dev/null
  else
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$1" 2>/dev/null
  fi
}

show_logs() {  # show_logs [LINES]: the tail of each non-empty log, on stderr
  local f
  for f in "${SERVICE_LOGS[@]}"; do
    [ -s "$f" ] || continue
    echo "----- last lines of $f" >&2
    tail -n "${1:-40}" "$f" >&2
  done
  return 0
}

# --- start ----------------------------------------------------------------------

lock_start() {  # lock_start SECONDS: hold $CACHE/.lock (fd 9) until this script exits
  # Two concurrent starts (parallel CI steps) must not launch two servers.
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock -w "$1" 9 || die "timed out waiting for another $SERVICE.sh on $CACHE/.lock"
}

wait_ready() {  # wait_ready PID
  local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_logs 60; rm -f "$PIDFILE"
      die "$SERVICE_NOUN process $pid exited during startup (logs above)"
    fi
    is_ready && return 0
    sleep "$READY_POLL"
  done
  show_logs 60
  die "$SERVICE_NOT_READY after ${START_TIMEOUT}s (still running as pid $pid; '$0 stop' to end it)"
}

already_running() {  # exit 0 (and say so, once ready) when the service runs already
  is_running || return 1
  wait_ready "$(service_pid)"
  say "already running (pid $(service_pid)) $SERVICE_WHERE"
}

started() {  # started PID T0: record the pid just launched, wait for it, report
  echo "$1" >"$PIDFILE"
  wait_ready "$1"
  say "ready $SERVICE_WHERE (pid $1, $((SECONDS - $2)) s; ${3:-data $DATA})"
}

# --- stop / status / reset ------------------------------------------------------

cmd_stop() {
  if ! is_running; then rm -f "$PIDFILE"; say "not running"; return 0; fi
  local pid; pid=$(service_pid)
  # The whole process group (started under setsid, so the pid leads it): a wrapper
  # script such as kc.sh and the JVM it starts. SIGTERM lets the server shut down
  # cleanly (Kafka writes its clean-shutdown marker and skips recovery next start).
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  say "stopped"
}

cmd_status() {
  if is_running; then
    if is_ready; then say "running (pid $(service_pid)) and ready $SERVICE_WHERE"
    else say "running (pid $(service_pid)) but $SERVICE_NOT_READY"; fi
    return 0
  fi
  say "stopped"
  return 1
}

cmd_reset() {  # stop, then delete $DATA if this script made it ($MARKER)
  cmd_stop
  if [ -d "$DATA" ]; then
    # The data dir may come from the environment and point anywhere: only delete
    # what this script made (start leaves $MARKER in it).
    [ -f "$MARKER" ] || die "$DATA was not created by $0; not deleting it"
    rm -rf "$DATA"
  fi
  say "data dir $DATA removed"
}
