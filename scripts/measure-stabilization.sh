#!/usr/bin/env bash
# Measures stabilization on a scratch 5-node cluster, in a temporary directory and on ports
# 28000-28004 (HTTP) / 27000-27004 (cluster), so it never touches the demo cluster or its data:
#   1. re-replication: KEYS keys are loaded, node5 is killed with SIGKILL; the time from the kill
#      until every survivor's ring has dropped node5 and is settled (a stable epoch, every gained
#      range filled), and the keys streamed (and per second, from the moment the first survivor
#      stopped reading from node5: a lower bound). The removal delay is set to REMOVAL_DELAY
#      (default 5s) here, so the figure is mostly detection, agreement and streaming;
#   2. a restart within the removal delay: node4 is killed, KEYS/100 keys are rewritten, node4 is
#      started again; the time until every node is settled, the ring epochs agreed meanwhile
#      (expected none) and the keys streamed (expected 0);
#   3. one anti-entropy round (POST /cluster/repair on node1) over converged replicas.
#   scripts/measure-stabilization.sh [KEYS]     (default 100000; values of 100 bytes)
# Needs wrk (Debian: apt-get install -y wrk) and curl. Stops everything it started, always.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keys=${1:-100000}
if ! [[ "$keys" =~ ^[0-9]+$ ]] || [ "$keys" -lt 100 ]; then
  echo "usage: $0 [KEYS]   (KEYS >= 100)" >&2
  exit 2
fi
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 2; }
http_base=28000
cluster_base=27000

cd "$root"
[ -f target/dht-node.jar ] || mvn -B -q -DskipTests package
home=$(mktemp -d "${TMPDIR:-/tmp}/dht-measure.XXXXXX")
cleanup() {
  "$home/scripts/stop-cluster.sh" >/dev/null 2>&1 || true
  for f in "$home"/run/node*.pid; do
    [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null || true
  done
  rm -rf "$home"
}
trap cleanup EXIT
cp -r scripts "$home/scripts"
mkdir -p "$home/conf" "$home/target"
cp target/dht-node.jar "$home/target/"
for k in 1 2 3 4 5 6 7 8; do
  sed -e "s/http-port = $((8000 + k - 1))/http-port = $((http_base + k - 1))/" \
      -e "s/cluster-port = $((7000 + k - 1))/cluster-port = $((cluster_base + k - 1))/" \
      "conf/node$k.conf" >"$home/conf/node$k.conf"
  echo "dht.node.seeds = [\"127.0.0.1:$cluster_base\"]" >>"$home/conf/node$k.conf"
  echo "dht.ring.removal-delay = ${REMOVAL_DELAY:-5s}" >>"$home/conf/node$k.conf"
done

now_ms() { date +%s%3N; }
url() { echo "http://127.0.0.1:$((http_base + $1 - 1))$2"; }
field() { # node path field -> the number (or nothing)
  curl -s --max-time 2 "$(url "$1" "$2")" | grep -o "\"$3\":[0-9-]*" | head -n 1 | cut -d: -f2 || true
}
members_of() { curl -s --max-time 2 "$(url "$1" /cluster/ring)" || true; }
settled() { # node -> true if it is at a stable epoch with every range it replicates filled
  curl -s --max-time 2 "$(url "$1" /cluster/stabilization)" | grep -q '"settled":true'
}
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
write_keys() { # n: keys key0..key(n-1), in order, one connection per wrk thread
  local out
  out=$(BENCH_DIR="$root/scripts/bench" BENCH_PRELOAD=1 BENCH_READ_RATIO=0 BENCH_KEYS="$1" \
    wrk -t1 -c8 -d900s -s "$root/scripts/bench/kv.lua" "$(url 1 "")" 2>&1 || true)
  grep '^preload:' <<<"$out" || { echo "writing $1 keys failed:" >&2; echo "$out" >&2; exit 1; }
}
until_true() { # seconds description command...
  local limit=$1 what=$2 start
  shift 2
  start=$(date +%s)
  until "$@"; do
    if [ $(( $(date +%s) - start )) -ge "$limit" ]; then
      echo "gave up after $limit s waiting for: $what" >&2
      exit 1
    fi
    sleep 0.2
  done
}

(cd "$home" && scripts/start-cluster.sh 5 >/dev/null)
echo "5 nodes up in $home (HTTP $http_base-$((http_base + 4)))"
load_start=$(now_ms)
write_keys "$keys" >/dev/null
echo "loaded $keys keys of 100 bytes in $(secs $(( $(now_ms) - load_start ))) s"

# ---- 1. re-replication after kill -9
fetched_before=0
for k in 1 2 3 4; do fetched_before=$(( fetched_before + $(field "$k" /cluster/stabilization keysFetched) )); done
kill -KILL "$(cat "$home/run/node5.pid")"
killed=$(now_ms)
dropped=""
first_drop=""
all_dropped() {
  local k all=0
  for k in 1 2 3 4; do
    if members_of "$k" | grep -q '"node5"'; then
      all=1
    elif [ -z "$first_drop" ]; then
      first_drop=$(now_ms)
    fi
  done
  return $all
}
all_settled() {
  local k
  all_dropped || return 1
  [ -n "$dropped" ] || dropped=$(now_ms)
  for k in 1 2 3 4; do settled "$k" || return 1; done
  return 0
}
until_true 300 "survivors drop node5 and refill" all_settled
filled=$(now_ms)
fetched=0
for k in 1 2 3 4; do fetched=$(( fetched + $(field "$k" /cluster/stabilization keysFetched) )); done
fetched=$(( fetched - fetched_before ))
fill_ms=$(( filled - first_drop ))
[ "$fill_ms" -gt 0 ] || fill_ms=1
echo "re-replication after kill -9 of node5: $(secs $(( filled - killed ))) s from the kill" \
  "(dropped by a first survivor after $(secs $(( first_drop - killed ))) s, by all after $(secs $(( dropped - killed ))) s);" \
  "$fetched keys streamed in at most $(secs "$fill_ms") s: at least $(( fetched * 1000 / fill_ms )) keys/s"

# ---- 2. a restart within the removal delay moves no data
diverge=$(( keys / 100 ))
epoch_before=$(field 1 /cluster/ring epoch)
fetched_before=0 # node4's own count starts again at 0 when it restarts
for k in 1 2 3; do fetched_before=$(( fetched_before + $(field "$k" /cluster/stabilization keysFetched) )); done
kill -KILL "$(cat "$home/run/node4.pid")"
write_keys "$diverge" >/dev/null
restart=$(now_ms)
(cd "$home" && scripts/start-cluster.sh 4 >/dev/null)
all_four_settled() {
  local k
  for k in 1 2 3 4; do settled "$k" || return 1; done
}
until_true 300 "node4 is back and every node settled" all_four_settled
back=$(now_ms)
fetched=0
for k in 1 2 3 4; do fetched=$(( fetched + $(field "$k" /cluster/stabilization keysFetched) )); done
echo "restart of node4 within the removal delay after $diverge of $keys keys changed:" \
  "$(secs $(( back - restart ))) s from the restart to all settled," \
  "ring epochs agreed meanwhile: $(( $(field 1 /cluster/ring epoch) - epoch_before )), keys streamed: $(( fetched - fetched_before ))"

# ---- 3. one anti-entropy round over converged replicas
rounds_before=$(field 1 /cluster/stabilization repairRounds)
repair_start=$(now_ms)
curl -s -X POST "$(url 1 /cluster/repair)" >/dev/null
round_done() {
  [ "$(field 1 /cluster/stabilization repairRounds)" != "$rounds_before" ] &&
    [ "$(field 1 /cluster/stabilization repairsInFlight)" = "0" ]
}
until_true 300 "node1's anti-entropy round" round_done
echo "anti-entropy round on node1 over converged replicas: $(secs $(( $(now_ms) - repair_start ))) s," \
  "$(( $(field 1 /cluster/stabilization keysRepaired) )) keys repaired so far"
