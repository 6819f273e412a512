#!/usr/bin/env bash
# A throwaway S3 server for tests: one Ceph monitor, one in-memory (memstore) OSD and
# radosgw, all on loopback, all state under DIR (see docs in /work/shared/TESTING.md's
# "S3: Ceph radosgw" facts, which this follows).
#
#   scripts/s3_server.sh start DIR   starts it, creates the user `reprise-test` with fixed
#                                    keys and the bucket `reprise-test`, then writes
#                                    DIR/url  s3://reprise-test/tests?endpoint=http://127.0.0.1:PORT&region=us-east-1&path_style=true
#                                    DIR/env  AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=...
#   scripts/s3_server.sh stop DIR    kills what start left running and removes DIR
#                                    (idempotent: nothing running, nothing to do).
#   scripts/s3_server.sh halt DIR    kills the gateway (radosgw) alone: the cluster and its
#                                    objects stay, the port refuses connections.
#   scripts/s3_server.sh resume DIR  starts the gateway again on the same port and waits
#                                    until it answers (tests of clients that outlive an
#                                    S3 outage).
#
# REPRISE_S3_MEMSTORE_BYTES sizes the in-memory OSD (default 1 GiB; benches storing a
# 1 GiB object ask for more).
# A start that fails prints the daemons' logs and exits non-zero. Ports are free ones
# picked at start (never 7480 or 6789 blindly), so several copies can run side by side.
set -euo pipefail

readonly ACCESS_KEY="REPRISETESTACCESSKEY"
readonly SECRET_KEY="reprise/test/secret/key/0123456789abcdefghij"
readonly BUCKET="reprise-test"
readonly START_TIMEOUT_SECONDS=60

usage() {
  echo "usage: $0 start|stop|halt|resume DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
# The daemons outlive this script: they must not keep open the pipes the caller reads our
# output from, or the caller waits for them (their own output goes to DIR/log).
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  case $fd in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
done
command=$1
dir=$2
case "$dir" in
  /*) ;;
  *) dir="$(pwd)/$dir" ;;
esac

# Every pid a daemon wrote under DIR/run, killed hard: the data is throwaway.
stop_server() {
  if [ -d "$dir/run" ]; then
    for pidfile in "$dir"/run/*.pid; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile" 2>/dev/null || true)
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null || true
      fi
    done
    # Wait until they are gone, so the ports and memory are free when stop returns.
    for pidfile in "$dir"/run/*.pid; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile" 2>/dev/null || true)
      for _ in $(seq 1 100); do
        { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; } || break
        sleep 0.05
      done
    done
  fi
  rm -rf "$dir"
}

# Any TCP socket on the port, listening or connected: a client's connection whose
# source port it is also makes a bind to it fail (EADDRINUSE).
port_in_use() {
  ss -Htan "sport = :$1" | grep -q .
}

# Something listens on the port.
port_listened() {
  ss -Htln "sport = :$1" | grep -q .
}

# A port nobody uses, from 20000 up to the kernel's ephemeral range (source ports of
# outgoing connections are drawn from there, and one could take the port between this
# check and the daemon's bind), clear of ceph's own OSD range (6800-7300).
free_port() {
  local port low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 21000 ] 2>/dev/null || low=50000
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % (low - 20000)))
    if ! port_in_use "$port"; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

fail_start() {
  echo "s3_server.sh: $1" >&2
  for log in "$dir"/log/*.log; do
    [ -f "$log" ] || continue
    echo "----- $log (last 60 lines)" >&2
    tail -n 60 "$log" >&2
  done
  stop_server
  exit 1
}

# Polls `check` (a command) until it succeeds or the start deadline passes.
wait_for() {
  local what=$1
  shift
  while ! "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then fail_start "timed out waiting for $what"; fi
    sleep 0.05
  done
}

start_server() {
  for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool uuidgen curl ss; do
    command -v "$tool" >/dev/null 2>&1 ||
      { echo "s3_server.sh: $tool is missing (run scripts/install-deps.sh)" >&2; exit 1; }
  done
  stop_server  # a leftover from an interrupted run
  mkdir -p "$dir"/{run,log,mon,osd/ceph-0,rgw}
  SECONDS=0
  deadline=$START_TIMEOUT_SECONDS
  local started_ms
  started_ms=$(date +%s%3N)

  local fsid mon_port rgw_port osd_uuid
  fsid=$(uuidgen)
  osd_uuid=$(uuidgen)
  mon_port=$(free_port)
  rgw_port=$(free_port)
  while [ "$rgw_port" = "$mon_port" ]; do rgw_port=$(free_port); done

  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms bind msgr2 = false
osd objectstore = memstore
memstore device bytes = ${REPRISE_S3_MEMSTORE_BYTES:-1073741824}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 1
osd pool default pgp num = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon data avail warn = 1
mon data avail crit = 0
osd crush update on start = false
osd class update on start = false
paxos propose interval = 0.05
paxos min wait = 0.01
run dir = $dir/run
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
keyring = $dir/keyring
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
# Deleted objects' data is freed by radosgw's garbage collector, by default two hours
# later: a test run would fill the in-memory OSD (writes then stall) long before.
rgw gc obj min wait = 10
rgw gc processor period = 5
rgw data = $dir/rgw
EOF
  export CEPH_CONF="$dir/ceph.conf"
  local quiet=(--no-mon-config)

  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mgr 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" ||
    fail_start "ceph-mon --mkfs failed"
  ceph-mon -i a </dev/null >>"$dir/log/daemons.out" 2>&1 || fail_start "ceph-mon did not start"
  wait_for "the monitor" ceph --connect-timeout 2 mon stat

  # The OSD cannot add itself (crush/class update on start are off, see TESTING.md).
  # Right after its election, and after a second one that may follow, the monitor may
  # still refuse commands (EPERM "problem getting command descriptions"). `osd new` with
  # the same uuid and `osd crush add` of the same item at the same place are idempotent,
  # so both are retried until the deadline.
  wait_for "the monitor to take commands (ceph osd new)" ceph osd new "$osd_uuid"
  wait_for "the monitor to take commands (ceph osd crush add)" \
    ceph osd crush add osd.0 1.0 root=default host=localhost
  ceph-osd -i 0 --mkfs --osd-uuid "$osd_uuid" "${quiet[@]}" >/dev/null 2>&1 ||
    fail_start "ceph-osd --mkfs failed"
  ceph-osd -i 0 </dev/null >>"$dir/log/daemons.out" 2>>"$dir/log/osd-start.log" ||
    fail_start "ceph-osd did not start"
  osd_up() { ceph osd dump 2>/dev/null | grep -q '^osd\.0 up'; }
  wait_for "the OSD" osd_up

  radosgw -n client.rgw.a </dev/null >>"$dir/log/daemons.out" 2>&1 ||
    fail_start "radosgw did not start"
  wait_for "radosgw on port $rgw_port" curl -sf -o /dev/null "http://127.0.0.1:$rgw_port/"

  radosgw-admin user create --uid=reprise-test --display-name=reprise-test \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null ||
    fail_start "radosgw-admin user create failed"
  # The bucket through S3 itself (SigV4 by curl: a bucket PUT has an empty body, whose
  # hash radosgw needs in x-amz-content-sha256, which curl does not add by itself).
  local empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
  local status
  status=$(curl -s -o "$dir/log/bucket-create.txt" -w '%{http_code}' -X PUT \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H "x-amz-content-sha256: $empty_sha" "http://127.0.0.1:$rgw_port/$BUCKET")
  [ "$status" = 200 ] || fail_start "creating bucket $BUCKET answered $status: $(cat "$dir/log/bucket-create.txt")"

  echo "s3://$BUCKET/tests?endpoint=http://127.0.0.1:$rgw_port&region=us-east-1&path_style=true" \
    >"$dir/url"
  printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$ACCESS_KEY" "$SECRET_KEY" >"$dir/env"
  echo "radosgw ready at http://127.0.0.1:$rgw_port in $(($(date +%s%3N) - started_ms)) ms ($dir)"
}

# The gateway's port, from the URL start wrote.
rgw_port() {
  sed -n 's|.*endpoint=http://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/url"
}

halt_gateway() {
  [ -f "$dir/url" ] || { echo "s3_server.sh: nothing started in $dir" >&2; exit 1; }
  local pidfile="$dir/run/client.rgw.a.pid" pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    for _ in $(seq 1 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
  fi
  rm -f "$pidfile"
  local port
  port=$(rgw_port)
  for _ in $(seq 1 200); do
    port_listened "$port" || return 0
    sleep 0.05
  done
  echo "s3_server.sh: port $port still in use after the gateway was killed" >&2
  exit 1
}

resume_gateway() {
  [ -f "$dir/url" ] || { echo "s3_server.sh: nothing started in $dir" >&2; exit 1; }
  export CEPH_CONF="$dir/ceph.conf"
  SECONDS=0
  deadline=$START_TIMEOUT_SECONDS
  local port
  port=$(rgw_port)
  radosgw -n client.rgw.a </dev/null >>"$dir/log/daemons.out" 2>&1 ||
    { echo "s3_server.sh: radosgw did not start" >&2; exit 1; }
  while ! curl -sf -o /dev/null "http://127.0.0.1:$port/"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "s3_server.sh: radosgw did not answer on port $port again" >&2
      tail -n 60 "$dir/log/client.rgw.a.log" >&2 || true
      exit 1
    fi
    sleep 0.05
  done
}

case "$command" in
  start) start_server ;;
  stop) stop_server ;;
  halt) halt_gateway ;;
  resume) resume_gateway ;;
  *) usage ;;
esac
