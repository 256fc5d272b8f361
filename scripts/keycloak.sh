#!/usr/bin/env bash
# A private Keycloak (an OpenID Connect provider) for tests and the demo, on 127.0.0.1 only,
# with the realm of scripts/keycloak/gridgov-realm.json imported on every start. No Docker:
# the distribution comes from Maven Central (org.keycloak:keycloak-quarkus-dist, a zip).
#
#   scripts/keycloak.sh fetch    download and unzip the distribution into the cache (once)
#   scripts/keycloak.sh start    fetch if needed, start in dev mode, wait until the realm answers
#   scripts/keycloak.sh stop     SIGTERM, wait, then SIGKILL
#   scripts/keycloak.sh status   exit 0 if the provider process is running
#   scripts/keycloak.sh env      print KEYCLOAK_URL for `eval`
#   scripts/keycloak.sh logs     tail the provider's log
#
# Dev mode keeps everything in memory (H2): each start begins from the realm file, so
# users a test created or keys it rotated are gone after a restart. Not for production:
# a city runs its own provider (README, "Signing in through the city's provider").
#
# Settings (environment):
#   KEYCLOAK_VERSION          26.4.0
#   GRIDGOV_CACHE             ~/.cache/gridgov; the distribution goes to $GRIDGOV_CACHE/keycloak-$KEYCLOAK_VERSION
#   KEYCLOAK_RUN_DIR          /var/tmp/gridgov-keycloak  made afresh on each start (the cached dist stays clean)
#   KEYCLOAK_PORT             18080  http (the realm, the admin REST API)
#   KEYCLOAK_MANAGEMENT_PORT  18081  health (/health/ready)
#   KEYCLOAK_HEAP_OPTS        -Xms64m -Xmx512m
#   KEYCLOAK_JIT_OPTS         -XX:TieredStopAtLevel=1  the quick compiler only: a provider for tests and
#                             demos starts on 28 CPU-s instead of 42, and serves its few logins as fast
#   KEYCLOAK_START_TIMEOUT    300    seconds to wait for readiness (about 25 s idle, 100 s on 2 busy cores)
#   KEYCLOAK_STOP_TIMEOUT     30     seconds to wait after SIGTERM before SIGKILL
# The admin REST API's bootstrap administrator is admin/admin (master realm), for the tests' fixture.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REALM_FILE=$HERE/keycloak/gridgov-realm.json
REALM=gridgov

VERSION=${KEYCLOAK_VERSION:-26.4.0}
ARTIFACT=org.keycloak:keycloak-quarkus-dist:$VERSION:zip
# HOME can be unset under some CI runners; set -u would abort on it.
CACHE=${GRIDGOV_CACHE:-${HOME:-/var/tmp}/.cache/gridgov}/keycloak-$VERSION
DIST=$CACHE/keycloak-$VERSION
RUN=${KEYCLOAK_RUN_DIR:-/var/tmp/gridgov-keycloak}
KCHOME=$RUN/home
HOST=127.0.0.1
PORT=${KEYCLOAK_PORT:-18080}
MPORT=${KEYCLOAK_MANAGEMENT_PORT:-18081}
URL=http://$HOST:$PORT
HEAP_OPTS=${KEYCLOAK_HEAP_OPTS:--Xms64m -Xmx512m}
JIT_OPTS=${KEYCLOAK_JIT_OPTS--XX:TieredStopAtLevel=1}
START_TIMEOUT=${KEYCLOAK_START_TIMEOUT:-300}
STOP_TIMEOUT=${KEYCLOAK_STOP_TIMEOUT:-30}

PIDFILE=$RUN/keycloak.pid
LOG=$RUN/keycloak.out
MARKER=$RUN/.gridgov-keycloak  # a run dir is only deleted when it carries this

SERVICE=keycloak SERVICE_NOUN=provider SERVICE_WHERE="at $URL"
SERVICE_NOT_READY="realm $REALM not answering at $URL"
SERVICE_MATCH=$KCHOME
SERVICE_LOGS=("$LOG")
READY_POLL=1
# shellcheck source=lib/service.sh
. "$HERE/lib/service.sh"

# --- fetch ------------------------------------------------------------------

is_fetched() { [ -f "$DIST/.fetched" ] && [ "$(cat "$DIST/.fetched")" = "$VERSION" ]; }

cmd_fetch() {
  if is_fetched; then say "Keycloak $VERSION already in $DIST"; return 0; fi
  ensure_tools java mvn unzip
  ensure_java17 "Keycloak $VERSION"
  mkdir -p "$CACHE"
  local tmp=$CACHE/fetch.tmp.$$ t0=$SECONDS
  rm -rf "$tmp"; mkdir -p "$tmp"
  say "fetching $ARTIFACT from Maven Central"
  if ! mvn -B -q -Dstyle.color=never dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$tmp" \
       >"$CACHE/fetch.log" 2>&1; then
    cat "$CACHE/fetch.log" >&2; rm -rf "$tmp"
    die "maven could not fetch $ARTIFACT (log above)"
  fi
  # Unzipped in the temp dir, then renamed: an interrupted fetch never looks complete.
  unzip -q "$tmp/keycloak-quarkus-dist-$VERSION.zip" -d "$tmp" || { rm -rf "$tmp"; die "could not unzip the distribution"; }
  [ -x "$tmp/keycloak-$VERSION/bin/kc.sh" ] || { rm -rf "$tmp"; die "bin/kc.sh missing from the distribution"; }
  rm -rf "$DIST"
  mv "$tmp/keycloak-$VERSION" "$DIST"
  rm -rf "$tmp"
  echo "$VERSION" >"$DIST/.fetched"
  say "fetched Keycloak $VERSION ($(du -sh "$DIST" | cut -f1)) in $((SECONDS - t0)) s into $DIST"
}

# --- readiness ---------------------------------------------------------------

# Ready means what the engine and the tests need: the realm's discovery document answers.
is_ready() { port_open "$PORT" && http_ok "$URL/realms/$REALM/.well-known/openid-configuration"; }

# --- start ----------------------------------------------------------------------

make_home() {
  # A home of its own per start: dev mode re-augments (writes lib/quarkus) and keeps its
  # data under the home; the 150 MB of jars and the themes are only read, so they are linked.
  rm -rf "$KCHOME"
  mkdir -p "$KCHOME/lib" "$KCHOME/data/import"
  cp -r "$DIST/bin" "$DIST/conf" "$DIST/providers" "$KCHOME/"
  cp -r "$DIST/lib/app" "$DIST/lib/quarkus" "$DIST/lib/quarkus-run.jar" "$KCHOME/lib/"
  ln -s "$DIST/lib/lib" "$KCHOME/lib/lib"
  ln -s "$DIST/themes" "$KCHOME/themes"
  cp "$REALM_FILE" "$KCHOME/data/import/"
}

cmd_start() {
  lock_start 300
  already_running && return 0
  ports_free "KEYCLOAK_PORT / KEYCLOAK_MANAGEMENT_PORT" "$PORT" "$MPORT"

  if ! is_fetched; then cmd_fetch; fi
  ensure_tools java  # a cached distribution needs no Maven
  ensure_java17 "Keycloak $VERSION"
  if [ -d "$RUN" ] && [ ! -f "$MARKER" ] && [ -n "$(ls -A "$RUN")" ]; then
    die "$RUN was not created by $0; not reusing it (set KEYCLOAK_RUN_DIR)"
  fi
  mkdir -p "$RUN"
  touch "$MARKER"
  make_home

  local t0=$SECONDS
  # setsid: the provider must outlive this shell and ignore a Ctrl-C meant for it; its pid is
  # its process group's, so stop reaches kc.sh and the JVM it starts. 9>&-: not the start lock.
  # Dev mode: HTTP, an in-memory H2 database, the realm imported from data/import.
  # The hostname is fixed so the issuer is the same however the provider is reached.
  KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin JAVA_OPTS_KC_HEAP="$HEAP_OPTS" JAVA_OPTS_APPEND="$JIT_OPTS" \
    setsid "$KCHOME/bin/kc.sh" start-dev --import-realm --db=dev-mem \
      --http-host="$HOST" --http-port="$PORT" --hostname="$URL" \
      --http-management-port="$MPORT" --health-enabled=true \
      --log-level=info,org.keycloak.events:debug \
      </dev/null >"$LOG" 2>&1 9>&- &
  started $! "$t0" "realm $REALM; run dir $RUN"
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) echo "export KEYCLOAK_URL=$URL" ;;
  logs) tail -n "${2:-100}" "$LOG" ;;
  *) echo "usage: $0 fetch|start|stop|status|env|logs" >&2; exit 2 ;;
esac
