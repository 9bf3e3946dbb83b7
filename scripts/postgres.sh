#!/usr/bin/env bash
# A throw-away PostgreSQL server for tests and CI (Debian package, no Docker, no systemd).
# Usage: bash scripts/postgres.sh start|stop|status|url
#   start   install the `postgresql` package if missing (root: apt-get), initdb in a temporary
#           folder, start on 127.0.0.1:$PASSERELLE_PG_PORT (default 54329), create role and
#           database `app`/`appdb`, print the SQLAlchemy URL on the last line.
#   stop    stop the server and remove its folder.
#   url     print postgresql+psycopg://app:app@127.0.0.1:54329/appdb
# Example:
#   export PASSERELLE_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start | tail -n 1)
#   trap 'bash scripts/postgres.sh stop' EXIT
set -euo pipefail
PORT=${PASSERELLE_PG_PORT:-54329}
STATE=${TMPDIR:-/tmp}/passerelle-postgres-$PORT.dir
URL="postgresql+psycopg://app:app@127.0.0.1:$PORT/appdb"

bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "postgres.sh: PostgreSQL is not installed; run as root or: apt-get install -y postgresql" >&2
      exit 1
    fi
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$dir"
}

# initdb refuses to run as root: as root, run the server as the `postgres` user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

running() {
  [ -f "$STATE" ] && [ -d "$(cat "$STATE")/pg/data" ] &&
    as_owner "$(bindir)/pg_ctl" -D "$(cat "$STATE")/pg/data" status >/dev/null 2>&1
}

start() {
  if running; then echo "$URL"; return; fi
  local bin dir
  bin=$(bindir)
  dir=$(mktemp -d)
  chmod o+x "$dir"  # the postgres user needs x on every parent folder
  mkdir -p "$dir/pg"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/pg"
  as_owner "$bin/initdb" -D "$dir/pg/data" -U postgres --auth=trust --no-sync -E UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 30 \
    -o "-p $PORT -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >&2 ||
    { cat "$dir/pg/server.log" >&2; exit 1; }
  echo "$dir" >"$STATE"
  "$bin/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE app LOGIN PASSWORD 'app'" -c "CREATE DATABASE appdb OWNER app" >&2
  echo "$URL"
}

stop() {
  [ -f "$STATE" ] || return 0
  local dir
  dir=$(cat "$STATE")
  if [ -d "$dir/pg/data" ]; then
    as_owner "$(bindir)/pg_ctl" -D "$dir/pg/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$dir" "$STATE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running: $URL"; else echo "stopped"; exit 3; fi ;;
  url) echo "$URL" ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
