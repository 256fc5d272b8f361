#!/usr/bin/env bash
# A private PostgreSQL cluster for tests and development, on 127.0.0.1 only.
#
#   scripts/postgres.sh install   apt-get the Debian server package if missing
#   scripts/postgres.sh start     initdb (once) and start; creates role and db gridgov
#   scripts/postgres.sh stop | status | env
#
# The cluster lives outside the repo (PGDATA_DIR) so a fresh clone reuses it.
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

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) if cmd_status; then echo running; else echo stopped; exit 1; fi ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|start|stop|status|env" >&2; exit 2 ;;
esac
