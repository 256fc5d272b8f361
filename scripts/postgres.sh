#!/usr/bin/env bash
# A private PostgreSQL cluster for tests and development, on 127.0.0.1 only.
#
#   scripts/postgres.sh install   apt-get the Debian server package if missing
#   scripts/postgres.sh start     initdb (once) and start; creates role and db gridgov
#   scripts/postgres.sh stop | status | env
#
# The cluster lives outside the repo (PGDATA_DIR) so a fresh clone reuses it.
#
# A primary with a synchronous streaming standby, apart from the cluster above
# (docs/operations.md, "PostgreSQL standby and failover"):
#
#   scripts/postgres.sh pair start     primary on 127.0.0.1:15432, standby on 15433 (fresh each time)
#   scripts/postgres.sh pair promote   promote the standby; returns once it takes writes
#   scripts/postgres.sh pair kill      SIGKILL the primary's postmaster (a machine dying)
#   scripts/postgres.sh pair stop | status | env
#
#   PGPAIR_DIR (/var/tmp/gridgov-pgpair), PGPAIR_PRIMARY_PORT (15432), PGPAIR_STANDBY_PORT (15433)
set -euo pipefail

# Not under $HOME: the postgres user must be able to reach it.
PGDATA=${PGDATA_DIR:-/var/tmp/gridgov-pgdata}
PORT=${POSTGRES_PORT:-5432}
USER_=${POSTGRES_USER:-gridgov}
PASS=${POSTGRES_PASSWORD:-gridgov}
DB=${POSTGRES_DBNAME:-gridgov}

pg_bin() {
  # Debian installs versioned binaries off PATH; take the newest.
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] || { echo "postgres: server not installed (run: $0 install)" >&2; exit 1; }
  echo "$dir"
}

as_postgres() {
  # The server refuses to run as root; Debian's package creates the postgres user.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd_install() {
  if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then return; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  # The package starts its own cluster on 5432; ours replaces it.
  (pg_ctlcluster --help >/dev/null 2>&1 && for c in $(ls /etc/postgresql 2>/dev/null); do
     pg_ctlcluster "$c" main stop >/dev/null 2>&1 || true; done) || true
}

cmd_status() {
  [ -f "$PGDATA/PG_VERSION" ] && as_postgres "$(pg_bin)/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

cmd_start() {
  local bin; bin=$(pg_bin)
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"; chown postgres: "$PGDATA" 2>/dev/null || true
    as_postgres "$bin/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if cmd_status; then echo "postgres: already running on 127.0.0.1:$PORT"; else
    # A cluster started by the Debian package would hold the port.
    for c in $(ls /etc/postgresql 2>/dev/null); do pg_ctlcluster "$c" main stop >/dev/null 2>&1 || true; done
    as_postgres "$bin/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k /tmp -c max_connections=200 -c fsync=on" >/dev/null
  fi
  local psql=("$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
  if [ "$("${psql[@]}" -c "select 1 from pg_roles where rolname='$USER_'")" != 1 ]; then
    "${psql[@]}" -c "create role $USER_ login password '$PASS' createdb"
  fi
  if [ "$("${psql[@]}" -c "select 1 from pg_database where datname='$DB'")" != 1 ]; then
    "${psql[@]}" -c "create database $DB owner $USER_"
  fi
  echo "postgres: ready on 127.0.0.1:$PORT (db $DB, user $USER_)"
}

cmd_stop() {
  if cmd_status; then as_postgres "$(pg_bin)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; fi
  echo "postgres: stopped"
}

cmd_env() {
  cat <<ENV
export PERSISTENCE_MODULE=eventsourcing.postgres
export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=$PORT POSTGRES_DBNAME=$DB
export POSTGRES_USER=$USER_ POSTGRES_PASSWORD=$PASS
ENV
}

# --- the pair: a primary and its synchronous standby -----------------------------

PAIR=${PGPAIR_DIR:-/var/tmp/gridgov-pgpair}
PRIMARY_PORT=${PGPAIR_PRIMARY_PORT:-15432}
STANDBY_PORT=${PGPAIR_STANDBY_PORT:-15433}
# The standby's application_name, named by synchronous_standby_names.
STANDBY_NAME=gridgov_standby

pair_psql() {  # pair_psql PORT SQL: one value, as the superuser
  "$(pg_bin)/psql" -h 127.0.0.1 -p "$1" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA -c "$2"
}

pair_up() {  # pair_up DIR PORT [OPTIONS]: start one server of the pair
  local dir=$1 port=$2; shift 2
  as_postgres "$(pg_bin)/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k /tmp -c max_connections=100 -c fsync=on $*" >/dev/null
}

pair_down() {  # pair_down DIR: a fast, clean stop if it runs
  if [ -f "$1/postmaster.pid" ]; then
    as_postgres "$(pg_bin)/pg_ctl" -D "$1" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
}

pair_start() {
  local bin; bin=$(pg_bin)
  pair_stop >/dev/null
  rm -rf "$PAIR"; mkdir -p "$PAIR"; chown postgres: "$PAIR" 2>/dev/null || true
  as_postgres "$bin/initdb" -D "$PAIR/a" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  # Replication from 127.0.0.1 is allowed by initdb's trust lines already.
  # synchronous_commit=on: a commit is answered once its WAL is flushed on the
  # standby too, so promotion replays it; remote_apply would also wait for the
  # standby to replay it, which only matters to readers of the standby (none).
  pair_up "$PAIR/a" "$PRIMARY_PORT" -c wal_level=replica -c max_wal_senders=5 -c max_replication_slots=5 \
    -c synchronous_commit=on -c wal_log_hints=on
  pair_psql "$PRIMARY_PORT" "select pg_create_physical_replication_slot('standby')" >/dev/null
  # The role and database the engine uses, before the standby copies them.
  pair_psql "$PRIMARY_PORT" "create role $USER_ login password '$PASS' createdb"
  pair_psql "$PRIMARY_PORT" "create database $DB owner $USER_"
  as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$PAIR/b" -R -S standby -X stream -c fast \
    -d "application_name=$STANDBY_NAME" >/dev/null
  pair_up "$PAIR/b" "$STANDBY_PORT" -c hot_standby=on -c wal_log_hints=on
  # Synchronous only now, set on the primary alone (after the copy): a commit before
  # the standby streams would wait for it, and the standby, once promoted, stands
  # alone and must not wait for a standby it does not have.
  pair_psql "$PRIMARY_PORT" "alter system set synchronous_standby_names = '$STANDBY_NAME'" >/dev/null
  pair_psql "$PRIMARY_PORT" "select pg_reload_conf()" >/dev/null
  local deadline=$((SECONDS + 60))
  until [ "$(pair_psql "$PRIMARY_PORT" "select sync_state from pg_stat_replication where application_name = '$STANDBY_NAME'")" = sync ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "postgres pair: standby not streaming after 60 s" >&2; exit 1; }
    sleep 0.2
  done
  echo "postgres pair: primary on 127.0.0.1:$PRIMARY_PORT, synchronous standby on 127.0.0.1:$STANDBY_PORT ($PAIR)"
}

pair_stop() {
  pair_down "$PAIR/b"; pair_down "$PAIR/a"
  echo "postgres pair: stopped"
}

pair_role() {  # pair_role PORT: primary, standby or down
  local r; r=$(pair_psql "$1" "select pg_is_in_recovery()" 2>/dev/null) || { echo down; return; }
  [ "$r" = f ] && echo primary || echo standby
}

pair_status() {
  local a b; a=$(pair_role "$PRIMARY_PORT"); b=$(pair_role "$STANDBY_PORT")
  echo "127.0.0.1:$PRIMARY_PORT $a, 127.0.0.1:$STANDBY_PORT $b"
  [ "$a" != down ] || [ "$b" != down ]
}

pair_kill() {
  local pid; pid=$(head -n 1 "$PAIR/a/postmaster.pid" 2>/dev/null) || { echo "postgres pair: primary not running"; return; }
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  # Its backends die with it once they notice; none may answer a client meanwhile.
  echo "postgres pair: primary (pid $pid) killed"
}

pair_promote() {
  as_postgres "$(pg_bin)/pg_ctl" -D "$PAIR/b" -w -t 60 promote >/dev/null
  local deadline=$((SECONDS + 60))
  # Takes writes: out of recovery, and a write transaction commits (not waiting for a standby).
  until [ "$(pair_role "$STANDBY_PORT")" = primary ] \
        && pair_psql "$STANDBY_PORT" "create temp table promoted (x int); select 1" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "postgres pair: standby not taking writes 60 s after promote" >&2; exit 1; }
    sleep 0.1
  done
  echo "postgres pair: 127.0.0.1:$STANDBY_PORT promoted, taking writes"
}

pair_env() {
  cat <<ENV
export PERSISTENCE_MODULE=eventsourcing.postgres
export POSTGRES_HOST=127.0.0.1,127.0.0.1 POSTGRES_PORT=$PRIMARY_PORT,$STANDBY_PORT POSTGRES_DBNAME=$DB
export POSTGRES_USER=$USER_ POSTGRES_PASSWORD=$PASS
ENV
}

cmd_pair() {
  case "${1:-}" in
    start) pair_start ;;
    stop) pair_stop ;;
    status) pair_status ;;
    promote) pair_promote ;;
    kill) pair_kill ;;
    env) pair_env ;;
    *) echo "usage: $0 pair start|stop|status|promote|kill|env" >&2; exit 2 ;;
  esac
}

case "${1:-}" in
  install) cmd_install ;;
  pair) shift; cmd_pair "$@" ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) if cmd_status; then echo running; else echo stopped; exit 1; fi ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|start|stop|status|env|pair" >&2; exit 2 ;;
esac
