# A three-node KRaft cluster on one machine, for scripts/kafka.sh when KAFKA_NODES > 1.
# Sourced by kafka.sh after its own functions (java_args, cmd_fetch, is_fetched) and
# scripts/lib/service.sh; not run alone.
#
# Each node is one JVM, broker and controller at once (combined roles); the three
# controllers are the quorum's voters, formatted together with --initial-controllers
# (KIP-853), so two of three decide and any one may die. Node n listens for clients on
# KAFKA_CLUSTER_PORT+n-1 (19092..) and for controllers on KAFKA_CLUSTER_CONTROLLER_PORT+n-1
# (19192..), keeps its data in $KAFKA_CLUSTER_DIR/node-n, apart from the single broker's run/.
#
#   start | stop | status | reset | env | logs [N]    the whole cluster
#   node-start N... | node-stop N | node-kill N         one node: start it (or several at once),
#                                                       SIGTERM it, SIGKILL it
#
# Settings (environment), besides kafka.sh's:
#   KAFKA_NODES                    3 (this file is used when it is more than 1)
#   KAFKA_CLUSTER_DIR              $GRIDGOV_CACHE/kafka-$KAFKA_VERSION/cluster
#   KAFKA_CLUSTER_PORT             19092  node 1's client port; node n's is this + n - 1
#   KAFKA_CLUSTER_CONTROLLER_PORT  19192  node 1's controller port
#   KAFKA_CLUSTER_HEAP_OPTS        -Xmx320m -Xms128m  per node (three JVMs on a small machine)

CLUSTER_DIR=${KAFKA_CLUSTER_DIR:-$CACHE/cluster}
CLUSTER_PORT=${KAFKA_CLUSTER_PORT:-19092}
CLUSTER_CPORT=${KAFKA_CLUSTER_CONTROLLER_PORT:-19192}
HEAP_OPTS=${KAFKA_CLUSTER_HEAP_OPTS:--Xmx320m -Xms128m}
CLUSTER_MARKER=$CLUSTER_DIR/.gridgov-kafka-cluster  # reset only deletes a dir that carries this
LEAST=1  # live brokers a node's probe must see: the whole cluster at its start, itself after

use_node() {  # use_node N: point service.sh's variables at node N
  [[ $1 =~ ^[1-9][0-9]*$ ]] && [ "$1" -le "$NODES" ] || die "no node '$1' (nodes are 1..$NODES)"
  NODE=$1
  PORT=$((CLUSTER_PORT + NODE - 1))
  CPORT=$((CLUSTER_CPORT + NODE - 1))
  DATA=$CLUSTER_DIR/node-$NODE
  PROPS=$DATA/server.properties
  LOGDIR=$DATA/logs
  KRAFT_DIR=$DATA/kraft
  PIDFILE=$DATA/kafka.pid
  SERVICE="kafka node $NODE" SERVICE_WHERE="on $HOST:$PORT"
  SERVICE_NOT_READY="node $NODE not ready on $HOST:$PORT"
  SERVICE_MATCH="kafka.Kafka $PROPS"
  SERVICE_LOGS=("$LOGDIR/kafka.out" "$LOGDIR/server.log" "$DATA/format.log")
}

is_ready() {
  port_open "$PORT" || return 1
  python3 "$KDIR/probe.py" "$HOST" "$PORT" "$LEAST" 2>/dev/null
}

node_ports() {
  local n list=() sep=$1
  for n in $(seq 1 "$NODES"); do list+=("$HOST:$((${2:-$CLUSTER_PORT} + n - 1))"); done
  (IFS=$sep; echo "${list[*]}")
}

write_node_config() {
  cat >"$PROPS" <<EOF
# Written by scripts/kafka.sh (cluster mode) on each start; edits here are lost.
process.roles=broker,controller
node.id=$NODE
controller.quorum.bootstrap.servers=$(node_ports , "$CLUSTER_CPORT")
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KRAFT_DIR

# Every internal topic on all three, a write to it on two: a lost node loses no
# group offset and no transaction state, and two lost nodes stop writes, not lose them.
offsets.topic.replication.factor=$NODES
transaction.state.log.replication.factor=$NODES
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=$NODES
share.coordinator.state.topic.min.isr=2
default.replication.factor=$NODES
min.insync.replicas=2
# Never elect a replica that missed acknowledged writes (the default, said aloud).
unclean.leader.election.enable=false
offsets.topic.num.partitions=10
group.initial.rebalance.delay.ms=0
num.partitions=3
auto.create.topics.enable=false

log.segment.bytes=16777216
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1
EOF
}

cluster_id() {  # one id for the cluster and a directory id per node, kept beside the nodes
  local n
  [ -s "$CLUSTER_DIR/cluster.id" ] || new_uuid >"$CLUSTER_DIR/cluster.id"
  for n in $(seq 1 "$NODES"); do
    [ -s "$CLUSTER_DIR/node-$n.dir-id" ] || new_uuid >"$CLUSTER_DIR/node-$n.dir-id"
  done
}

initial_controllers() {  # 1@host:port:dir-id,2@...: the quorum's voters, the same for every node
  local n list=()
  for n in $(seq 1 "$NODES"); do
    list+=("$n@$HOST:$((CLUSTER_CPORT + n - 1)):$(cat "$CLUSTER_DIR/node-$n.dir-id")")
  done
  (IFS=,; echo "${list[*]}")
}

format_node() {
  [ -f "$KRAFT_DIR/meta.properties" ] && return 0
  say "formatting KRaft storage in $KRAFT_DIR (cluster id $(cat "$CLUSTER_DIR/cluster.id"))"
  java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dkafka.logs.dir="$LOGDIR" \
    -Dlog4j2.configurationFile="$KDIR/log4j2.properties" -cp "$LIBS/*" \
    kafka.tools.StorageTool format -t "$(cat "$CLUSTER_DIR/cluster.id")" -c "$PROPS" \
    --initial-controllers "$(initial_controllers)" >"$DATA/format.log" 2>&1 || { show_logs; die "StorageTool format failed"; }
}

prepare_node() {  # node $NODE's config written and storage formatted, unless it runs
  is_running && return 0
  mkdir -p "$DATA" "$LOGDIR" "$KRAFT_DIR"
  write_node_config
  format_node
}

launch_node() {  # start node $NODE's JVM (not waiting); no-op when it runs
  is_running && return 0
  ports_free "KAFKA_CLUSTER_PORT / KAFKA_CLUSTER_CONTROLLER_PORT" "$PORT" "$CPORT"
  prepare_node
  java_args
  setsid "${JAVA_ARGS[@]}" kafka.Kafka "$PROPS" </dev/null >>"$LOGDIR/kafka.out" 2>&1 9>&- &
  echo $! >"$PIDFILE"
}

cluster_prepare() {
  CACHE=$CLUSTER_DIR lock_start 180  # a lock of its own: the single broker's start need not wait
  if ! is_fetched; then cmd_fetch; fi
  ensure_tools java python3
  ensure_java17 "Kafka $KAFKA_VERSION"
  mkdir -p "$CLUSTER_DIR"
  touch "$CLUSTER_MARKER"
  cluster_id
}

cluster_start() {
  # All launched before any is waited for: a node is ready only once a quorum of
  # controllers has elected a leader, which takes two of them running.
  cluster_prepare
  local n t0=$SECONDS
  for n in $(seq 1 "$NODES"); do use_node "$n"; prepare_node & done
  wait  # the formatting JVMs side by side: each takes seconds to start
  for n in $(seq 1 "$NODES"); do use_node "$n"; launch_node; done
  LEAST=$NODES
  for n in $(seq 1 "$NODES"); do use_node "$n"; wait_ready "$(service_pid)"; done
  SERVICE=kafka say "cluster of $NODES ready on $(node_ports ,) ($((SECONDS - t0)) s; data $CLUSTER_DIR)"
}

node_start() {  # node_start N...: launched side by side, then each waited for
  cluster_prepare
  local n t0=$SECONDS
  for n in "$@"; do use_node "$n"; launch_node; done
  for n in "$@"; do
    use_node "$n"
    wait_ready "$(service_pid)"
    say "ready $SERVICE_WHERE (pid $(service_pid), $((SECONDS - t0)) s)"
  done
}

node_kill() {  # SIGKILL, as a machine that loses power: no clean-shutdown marker
  use_node "$1"
  if ! is_running; then rm -f "$PIDFILE"; say "not running"; return 0; fi
  local pid; pid=$(service_pid)
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$PIDFILE"
  say "killed (pid $pid)"
}

cluster_stop() {
  # SIGTERM to every node at once, then wait: one by one, the last nodes' controlled
  # shutdown would wait for a controller quorum that is already gone.
  local n
  for n in $(seq 1 "$NODES"); do
    use_node "$n"
    if is_running; then kill -TERM -- "-$(service_pid)" 2>/dev/null || true; fi
  done
  for n in $(seq 1 "$NODES"); do use_node "$n"; cmd_stop; done
}

cluster_status() {
  local n up=0
  for n in $(seq 1 "$NODES"); do use_node "$n"; cmd_status && up=$((up + 1)); done
  [ "$up" -eq "$NODES" ]
}

cluster_reset() {
  cluster_stop
  if [ -d "$CLUSTER_DIR" ]; then
    [ -f "$CLUSTER_MARKER" ] || die "$CLUSTER_DIR was not created by $0; not deleting it"
    rm -rf "$CLUSTER_DIR"
  fi
  SERVICE=kafka say "cluster data dir $CLUSTER_DIR removed"
}

cluster_main() {
  case "${1:-}" in
    fetch) cmd_fetch ;;
    start) cluster_start ;;
    stop) cluster_stop ;;
    status) cluster_status ;;
    reset) cluster_reset ;;
    env) echo "export KAFKA_BOOTSTRAP_SERVERS=$(node_ports ,)" ;;
    logs) for n in $(seq 1 "$NODES"); do
            if [ -z "${2:-}" ] || [ "$2" = "$n" ]; then
              use_node "$n"; echo "----- node $n"; tail -n 50 "$LOGDIR/server.log"
            fi
          done ;;
    node-start) shift; node_start "${@:?node number}" ;;
    node-stop) use_node "${2:?node number}"; cmd_stop ;;
    node-kill) node_kill "${2:?node number}" ;;
    *) echo "usage: KAFKA_NODES=$NODES $0 start|stop|status|reset|env|logs [N]|node-start N...|node-stop N|node-kill N" >&2
       exit 2 ;;
  esac
}
