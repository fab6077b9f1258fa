#!/usr/bin/env bash
# The peer scripts/bench.sh --peer etcd measures dht-node against: a 3-member etcd cluster on
# loopback (client ports 2379, 22379, 32379; peer ports one above each).
#   scripts/etcd-peer.sh start DIR    start members e1..e3 with their data under DIR; returns once
#                                     the cluster answers a health check
#   scripts/etcd-peer.sh stop DIR     stop them, by the pids recorded in DIR, and wait until gone
# etcd fsyncs its Raft log on every commit: with DIR on tmpfs (/dev/shm) that costs nothing, the
# fair peer for dht-node with fsync = off; with DIR on disk it is the peer for fsync = on.
# bench.sh places DIR accordingly for each of its two pairs.
# Needs etcd and etcdctl: apt-get install -y etcd-server etcd-client.
set -euo pipefail
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
endpoints=127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379
client_port() { if [ "$1" = 1 ]; then echo 2379; else echo $(( $1 * 10000 + 2379 )); fi; }
case $cmd in
start)
  for tool in etcd etcdctl; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed: apt-get install -y etcd-server etcd-client" >&2; exit 1; }
  done
  rm -rf "$dir"
  mkdir -p "$dir"
  members=""
  for i in 1 2 3; do
    members="${members:+$members,}e$i=http://127.0.0.1:$(( $(client_port "$i") + 1 ))"
  done
  for i in 1 2 3; do
    c=$(client_port "$i")
    p=$(( c + 1 ))
    etcd --name "e$i" --data-dir "$dir/e$i" --log-level error \
      --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
      --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
      --initial-cluster "$members" --initial-cluster-state new --initial-cluster-token dht-bench-peer \
      >"$dir/e$i.log" 2>&1 &
    echo $! >"$dir/e$i.pid"
  done
  deadline=$(( $(date +%s) + 30 ))
  until ETCDCTL_API=3 etcdctl --endpoints="$endpoints" endpoint health >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "the etcd peer did not become healthy in 30 s; see $dir/e*.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "etcd peer up: $endpoints (data in $dir)" ;;
stop)
  pids=()
  for f in "$dir"/e*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null && pids+=("$pid")
  done
  deadline=$(( $(date +%s) + 30 ))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      if [ "$(date +%s)" -ge "$deadline" ]; then
        kill -9 "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
  done
  echo "etcd peer stopped" ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2 ;;
esac
