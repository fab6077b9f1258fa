#!/usr/bin/env bash
# One side of an A/B: a fresh 3-node cluster of JAR (data on /dev/shm, fsync off, the nodes'
# JVMs given EXTRA_JAVA_OPTS), every key preloaded, a mixed warm-up, then each workload in turn,
# printing req/s, p50, p99 and the CPU the three node processes used per request (utime + stime
# from /proc over the measured run: it counts JIT and GC threads too). Alternate two of these
# (A, B, A, B) to compare two jars or two settings; docs/benchmarks.md has the results.
#
#   scripts/bench/ab-run.sh LABEL JAR [EXTRA_JAVA_OPTS]
#   e.g. scripts/bench/ab-run.sh A1 /tmp/a.jar; scripts/bench/ab-run.sh B1 /tmp/a.jar -Xms512m
#
# Env: CONNS ("16 64"), WLS (workloads as name:read-ratio, "write:0 read:1"), WARM_FIRST (mixed
# warm-up at the largest CONNS after the preload, 30 s), WARM (the same workload before each
# measured run, 10 s), SECS (measured, 15 s), BASE_HTTP_PORT / BASE_CLUSTER_PORT (25000 / 26000),
# JFR_DIR (if set, node1 records a JFR profile of each measured run there).
# Needs wrk. The cluster is stopped and its directory removed however the script ends.
set -uo pipefail
[ $# -ge 2 ] || { sed -n '2,16p' "$0"; exit 2; }
label=$1 jar=$2 extra=${3:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/bench/lib.sh
. "$root/scripts/bench/lib.sh"
hb=${BASE_HTTP_PORT:-25000} cb=${BASE_CLUSTER_PORT:-26000}
WARM_FIRST=${WARM_FIRST:-30} WARM=${WARM:-10} SECS=${SECS:-15}
CONNS=${CONNS:-"16 64"} WLS=${WLS:-"write:0 read:1"}
[ -f "$jar" ] || { echo "no jar at $jar" >&2; exit 2; }
export BENCH_DIR=$root/scripts/bench BENCH_KEYS=10000 BENCH_VALUE_BYTES=100
url=http://127.0.0.1:$hb

work=$(mktemp -d /dev/shm/dht-ab.XXXXXX)
cleanup() {
  # the nodes' warnings and any 503s are part of the result
  grep -h 'WARN\|ERROR' "$work"/run/node*.log 2>/dev/null | grep -v 'Cluster not in use' | head -5 | sed "s/^/$label log: /"
  # node1's reads (count) and those that asked beyond R, besides any 503s and timeouts
  curl -s --max-time 5 "$url/metrics" \
    | grep -E '^dht_(unavailable|timeouts|read_speculations)_total.* [1-9]|^dht_requests_seconds_count.*op="read"' \
    | sed "s/^/$label metric: /"
  (cd "$work" && scripts/stop-cluster.sh >/dev/null 2>&1)
  rm -rf "$work"
}
trap cleanup EXIT
throwaway_copy "$root" "$work" "$jar" "$hb" "$cb"
(cd "$work" && JAVA_OPTS="-Xms64m -Xmx512m -Ddht.storage.fsync=off $extra" scripts/start-cluster.sh 3 >/dev/null) \
  || { echo "$label: the cluster did not start" >&2; exit 1; }
pids="$(cat "$work"/run/node1.pid) $(cat "$work"/run/node2.pid) $(cat "$work"/run/node3.pid)"

BENCH_PRELOAD=1 BENCH_READ_RATIO=0 wrk -t1 -c8 -d300s --timeout 10s -s "$BENCH_DIR/kv.lua" "$url" 2>&1 \
  | grep '^preload:' | sed "s/^/$label /"
tick=$(getconf CLK_TCK)
max=0; for c in $CONNS; do [ "$c" -gt "$max" ] && max=$c; done
if [ "$WARM_FIRST" -gt 0 ]; then
  BENCH_READ_RATIO=0.5 wrk -t2 -c"$max" -d"${WARM_FIRST}s" -s "$BENCH_DIR/kv.lua" "$url" >/dev/null 2>&1
fi
for c in $CONNS; do
  for wl in $WLS; do
    w=${wl%%:*} ratio=${wl##*:}
    BENCH_READ_RATIO=$ratio wrk -t2 -c"$c" -d"${WARM}s" -s "$BENCH_DIR/kv.lua" "$url" >/dev/null 2>&1
    if [ -n "${JFR_DIR:-}" ]; then
      jcmd "${pids%% *}" JFR.start name=ab duration="${SECS}s" settings=profile \
        filename="$JFR_DIR/$label-$w-$c.jfr" >/dev/null
    fi
    c0=$(cpu_ticks $pids)
    out=$(BENCH_READ_RATIO=$ratio wrk -t2 -c"$c" -d"${SECS}s" --latency -s "$BENCH_DIR/kv.lua" "$url" 2>&1)
    c1=$(cpu_ticks $pids)
    rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    errs=$(awk '/Non-2xx/ {n += $NF} END {print n + 0}' <<<"$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    us=$(awk -v a="$c0" -v b="$c1" -v n="$n" -v t="$tick" 'BEGIN {printf "%.0f", (b - a) / t * 1e6 / n}')
    printf '%-8s %-5s %3s  %6s req/s  p50 %6s  p99 %7s ms  node CPU %4s us/request  %s errors\n' \
      "$label" "$w" "$c" "$rps" "$p50" "$p99" "$us" "$errs"
  done
done
