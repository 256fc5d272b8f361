#!/usr/bin/env bash
# A private single-node Apache Kafka broker (KRaft, broker+controller in one JVM)
# for tests and development, on 127.0.0.1 only. No Docker and no Apache download
# mirror: the jars come from Maven Central through scripts/kafka/pom.xml.
#
#   scripts/kafka.sh fetch    download the broker's jars into the cache (once)
#   scripts/kafka.sh start    fetch if needed, format storage (once), start, wait until ready
#   scripts/kafka.sh stop     SIGTERM, wait, then SIGKILL
#   scripts/kafka.sh status   exit 0 if the broker process is running
#   scripts/kafka.sh reset    stop and delete the data dir (topics, offsets, cluster id)
#   scripts/kafka.sh env      print KAFKA_BOOTSTRAP_SERVERS for `eval`
#   scripts/kafka.sh logs     tail the broker log
#
# Cluster mode: with KAFKA_NODES=3 the same commands act on a three-node KRaft cluster
# (broker+controller per JVM) on 127.0.0.1:19092-19094, controllers on 19192-19194, data
# apart from the single broker's; `node-start N`, `node-stop N` and `node-kill N` (SIGKILL)
# act on one node. See scripts/kafka/cluster.sh and docs/operations.md ("Kafka cluster").
#
#   KAFKA_NODES=3 scripts/kafka.sh start && eval "$(KAFKA_NODES=3 scripts/kafka.sh env)"
#
# Settings (environment):
#   KAFKA_VERSION          4.1.1
#   KAFKA_LOG4J_VERSION    2.24.3  must equal the log4j-core that KAFKA_VERSION depends on
#                                  (4.1.x: 2.24.3; 4.2.0: 2.25.3), see kafka/pom.xml
#   GRIDGOV_CACHE          ~/.cache/gridgov; jars go to $GRIDGOV_CACHE/kafka-$KAFKA_VERSION/libs
#   KAFKA_DATA_DIR         $GRIDGOV_CACHE/kafka-$KAFKA_VERSION/run
#   KAFKA_PORT             9092   client listener
#   KAFKA_CONTROLLER_PORT  9093   KRaft controller listener
#   KAFKA_ADVERTISED_PORT  $KAFKA_PORT  the port clients are told to use (a test's proxy in front)
#   KAFKA_HEAP_OPTS        -Xmx512m -Xms256m
#   KAFKA_OPTS             extra JVM options
#   KAFKA_START_TIMEOUT    90     seconds to wait for readiness
#   KAFKA_STOP_TIMEOUT     30     seconds to wait after SIGTERM before SIGKILL
#
# Everything lives outside the repo, so a fresh clone (CI) reuses the jars.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KDIR=$HERE/kafka
POM=$KDIR/pom.xml

KAFKA_VERSION=${KAFKA_VERSION:-4.1.1}
LOG4J_VERSION=${KAFKA_LOG4J_VERSION:-2.24.3}
# HOME can be unset under some CI runners; set -u would abort on it.
CACHE=${GRIDGOV_CACHE:-${HOME:-/var/tmp}/.cache/gridgov}/kafka-$KAFKA_VERSION
LIBS=$CACHE/libs
DATA=${KAFKA_DATA_DIR:-$CACHE/run}
PORT=${KAFKA_PORT:-9092}
# The port clients are told to use (default: PORT). A test puts a proxy there that it can cut
# (tests/integration/test_relay_order.py): the broker then sees nothing the client sends meanwhile.
APORT=${KAFKA_ADVERTISED_PORT:-$PORT}
CPORT=${KAFKA_CONTROLLER_PORT:-9093}
HOST=127.0.0.1
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}

PROPS=$DATA/server.properties
LOGDIR=$DATA/logs          # log4j output (server.log) and the JVM's stdout/stderr
KRAFT_DIR=$DATA/kraft      # Kafka's log.dirs: topic partitions and the metadata log
PIDFILE=$DATA/kafka.pid
MARKER=$DATA/.gridgov-kafka  # reset only deletes a dir that carries this

SERVICE=kafka SERVICE_NOUN=broker SERVICE_WHERE="on $HOST:$PORT"
SERVICE_NOT_READY="broker not ready on $HOST:$PORT"
SERVICE_MATCH="kafka.Kafka $PROPS"
SERVICE_LOGS=("$LOGDIR/kafka.out" "$LOGDIR/server.log" "$DATA/format.log")
READY_POLL=0.5
# shellcheck source=lib/service.sh
. "$HERE/lib/service.sh"

# --- fetch ------------------------------------------------------------------

fetch_stamp() {
  # Re-fetch when the pom (e.g. the log4j binding) or the version changes.
  echo "$KAFKA_VERSION $LOG4J_VERSION $(sha256sum "$POM" | cut -c1-64)"
}

is_fetched() {
  [ -f "$LIBS/.fetched" ] && [ "$(cat "$LIBS/.fetched")" = "$(fetch_stamp)" ]
}

cmd_fetch() {
  if is_fetched; then say "jars for $KAFKA_VERSION already in $LIBS"; return 0; fi
  # Swapping jars under a running JVM would crash it on its next class load.
  if is_running; then die "broker is running on jars about to be replaced; run '$0 stop' first"; fi
  ensure_tools java mvn
  ensure_java17 "Kafka $KAFKA_VERSION"
  mkdir -p "$CACHE"
  local tmp=$CACHE/libs.tmp.$$ t0=$SECONDS
  rm -rf "$tmp"
  say "fetching kafka_2.13 $KAFKA_VERSION and its dependencies from Maven Central"
  # Into a temp dir then renamed, so an interrupted download never looks complete.
  if ! mvn -B -q -Dstyle.color=never -f "$POM" -Dkafka.version="$KAFKA_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
       dependency:copy-dependencies -DoutputDirectory="$tmp" >"$CACHE/fetch.log" 2>&1; then
    cat "$CACHE/fetch.log" >&2; rm -rf "$tmp"
    die "maven could not fetch kafka_2.13:$KAFKA_VERSION (log above)"
  fi
  [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"; }
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  fetch_stamp >"$LIBS/.fetched"
  say "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) in $((SECONDS - t0)) s into $LIBS"
}

# --- readiness ---------------------------------------------------------------

is_ready() {
  port_open "$PORT" || return 1
  if command -v python3 >/dev/null; then
    python3 "$KDIR/probe.py" "$HOST" "$PORT" 2>/dev/null
  fi  # without python the open port is the best we can check
}

# --- start ----------------------------------------------------------------------

write_config() {
  # Rewritten on every start so edits here apply; the cluster id lives in
  # $KRAFT_DIR/meta.properties and survives.
  cat >"$PROPS" <<EOF
# Written by scripts/kafka.sh on each start; edits here are lost.
# One JVM is both the KRaft controller and the broker.
process.roles=broker,controller
node.id=1
# --standalone formatting (dynamic KRaft quorum, KIP-853) needs the bootstrap
# servers form; the older static controller.quorum.voters is rejected with it.
controller.quorum.bootstrap.servers=$HOST:$CPORT
controller.listener.names=CONTROLLER
# Bound to loopback only: nothing off this machine should reach the broker.
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=PLAINTEXT://$HOST:$APORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KRAFT_DIR

# Single node: every internal topic must accept replication factor 1, or
# consumer groups / transactions / share groups fail to get a coordinator.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Default 50: fewer partitions to create and load on each start, on 2 cores.
offsets.topic.num.partitions=10
# Tests join groups constantly; the default 3 s delay would slow each one.
group.initial.rebalance.delay.ms=0

num.partitions=3
default.replication.factor=1
auto.create.topics.enable=true

# 16 MiB segments instead of 1 GiB keep a dev data dir small; a week of retention.
log.segment.bytes=16777216
log.retention.hours=168
# Sized for a 2-core machine rather than Kafka's server defaults.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
EOF
}

java_args() {
  # Built as an array: a path with spaces must stay one word and the classpath
  # wildcard must reach the JVM unexpanded (the JVM expands "libs/*" to every jar).
  # The GC flags are those of Kafka's own kafka-run-class.sh.
  local heap extra
  read -r -a heap <<<"$HEAP_OPTS"
  read -r -a extra <<<"${KAFKA_OPTS:-}"
  JAVA_ARGS=(java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dkafka.logs.dir="$LOGDIR" -Dlog4j2.configurationFile="$KDIR/log4j2.properties"
    "${extra[@]}" -cp "$LIBS/*")
}

new_uuid() {  # a Kafka Uuid, as `kafka-storage random-uuid` prints it (16 random bytes, base64url, no
  # leading "-"), in Python: not a JVM start (2 CPU-s) per id. scripts/kafka/cluster.sh's ids too.
  python3 -c 'import base64, os
while (u := base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()).startswith("-"): pass
print(u)'
}

format_storage() {
  # Formatting twice would fail (and a new cluster id would orphan the data).
  [ -f "$KRAFT_DIR/meta.properties" ] && return 0
  # The tool runs for a second: the JVM's quick compiler only, and the serial collector.
  local id tool=(java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dkafka.logs.dir="$LOGDIR"
                 -Dlog4j2.configurationFile="$KDIR/log4j2.properties" -cp "$LIBS/*" kafka.tools.StorageTool)
  id=$(new_uuid)
  say "formatting KRaft storage in $KRAFT_DIR (cluster id $id)"
  "${tool[@]}" format --standalone -t "$id" -c "$PROPS" >"$DATA/format.log" 2>&1 ||
    { show_logs; die "StorageTool format failed"; }
}

cmd_start() {
  lock_start 180
  already_running && return 0
  ports_free "KAFKA_PORT / KAFKA_CONTROLLER_PORT" "$PORT" "$CPORT"

  if ! is_fetched; then cmd_fetch; fi
  ensure_tools java  # cached jars need no Maven
  ensure_java17 "Kafka $KAFKA_VERSION"
  mkdir -p "$DATA" "$LOGDIR" "$KRAFT_DIR"
  touch "$MARKER"
  write_config
  format_storage

  local t0=$SECONDS
  java_args
  # setsid: the broker must outlive this shell and ignore a Ctrl-C meant for it.
  # 9>&-: the broker must not inherit the start lock, or it would hold it forever.
  setsid "${JAVA_ARGS[@]}" kafka.Kafka "$PROPS" </dev/null >"$LOGDIR/kafka.out" 2>&1 9>&- &
  started $! "$t0"
}

NODES=${KAFKA_NODES:-1}
if [ "$NODES" != 1 ]; then
  [[ $NODES =~ ^[2-9]$ ]] || die "KAFKA_NODES=$NODES: 1 (a single broker) or 2..9 (a cluster)"
  # shellcheck source=kafka/cluster.sh
  . "$KDIR/cluster.sh"
  cluster_main "$@"
  exit
fi

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  env) echo "export KAFKA_BOOTSTRAP_SERVERS=$HOST:$PORT" ;;
  logs) tail -n "${2:-100}" "$LOGDIR/server.log" ;;
  *) echo "usage: $0 fetch|start|stop|status|reset|env|logs" >&2; exit 2 ;;
esac
