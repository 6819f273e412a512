#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests (see TESTING.md): `start DIR` initialises a
# cluster in a fresh directory under /tmp (initdb refuses root, so it runs as the
# postgres user, which must be able to reach the data), starts it on a free loopback
# port with durability off (fsync, synchronous_commit, full_page_writes: the data is
# thrown away) and writes what clients need into DIR:
#   DIR/url   postgres://postgres@127.0.0.1:PORT/postgres
#   DIR/env   environment for clients (none needed: trust authentication on loopback)
# `stop DIR` stops it and removes the data; stopping what is not running is a no-op.
# `halt DIR` and `resume DIR` stop the server keeping its data and start it again on the
# same port (tests of clients that outlive a database restart).
# A start that fails prints the server log and exits non-zero.
set -euo pipefail

usage() { echo "usage: $0 start|stop|halt|resume DIR" >&2; exit 2; }

# The server outlives this script: it must not keep open the pipes the caller reads our
# output from (beyond stdout and stderr, which it never gets), or the caller waits for it.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  case $fd in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
done
[ $# -eq 2 ] || usage
action=$1
dir=$2

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
  echo "pg_server.sh: PostgreSQL server binaries not found (run scripts/install-deps.sh)" >&2
  exit 1
fi

# initdb and pg_ctl run as the postgres user when we are root, as ourselves otherwise.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi

stop() {
  [ -f "$dir/datadir" ] || return 0
  local data
  data=$(cat "$dir/datadir")
  if [ -f "$data/data/postmaster.pid" ]; then
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$data/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$data"
  rm -f "$dir/datadir" "$dir/url" "$dir/env" "$dir/port"
}

launch() {  # DATA PORT: starts the cluster, true when it runs
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$1/data" -l "$1/log" -w -t 20 start \
    -o "-c listen_addresses=127.0.0.1 -p $2 -k $1 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    >/dev/null 2>&1
}

halt() {
  local data
  data=$(cat "$dir/datadir")
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$data/data" -m fast -w stop >/dev/null
}

resume() {
  local data
  data=$(cat "$dir/datadir")
  if ! launch "$data" "$(cat "$dir/port")"; then
    echo "pg_server.sh: PostgreSQL did not start again; its log:" >&2
    cat "$data/log" >&2 2>/dev/null || true
    exit 1
  fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  stop
  mkdir -p "$dir"
  local data
  data=$(mktemp -d /tmp/reprise-pg.XXXXXX)
  echo "$data" >"$dir/datadir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$data"; fi
  if ! "${as_pg[@]}" "$bindir/initdb" -D "$data/data" -U postgres -A trust -E UTF8 \
      --locale=C.UTF-8 --no-sync -N >"$data/initdb.log" 2>&1; then
    cat "$data/initdb.log" >&2
    stop
    exit 1
  fi
  # A free port: one nothing answers on. Another process may take it between the check
  # and the start, so a failed start tries another port.
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" || continue
    if launch "$data" "$port"; then
      echo "$port" >"$dir/port"
      echo "postgres://postgres@127.0.0.1:$port/postgres" >"$dir/url"
      : >"$dir/env"
      return 0
    fi
    grep -q "could not bind\|Address already in use" "$data/log" 2>/dev/null || break
  done
  echo "pg_server.sh: PostgreSQL did not start; its log:" >&2
  cat "$data/log" >&2 2>/dev/null || true
  stop
  exit 1
}

case "$action" in
  start) start ;;
  stop) stop ;;
  halt) halt ;;
  resume) resume ;;
  *) usage ;;
esac
