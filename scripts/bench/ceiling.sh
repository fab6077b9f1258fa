#!/usr/bin/env bash
# The HTTP ceilings a dht-node figure is a share of, with the same wrk on the same machine:
# nginx returning a constant (the machine's ceiling; skipped if nginx is not installed), and a
# fresh dht-node cluster's node1 answering GET /nowhere (Akka HTTP and the route, a JSON 404, no
# actor) and GET /health (one local ask to the storage actor). Prints req/s, p50, p99 and the
# server's CPU per request at 16 and 64 connections (5 s warm-up, 15 s measured).
#
#   scripts/bench/ceiling.sh [JAR]      (default target/dht-node.jar)
#
# Env: BASE_HTTP_PORT / BASE_CLUSTER_PORT (25000 / 26000); nginx listens on BASE_HTTP_PORT+99.
# Needs wrk; nginx optional (apt-get install -y nginx-light). Everything it starts it stops.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/bench/lib.sh
. "$root/scripts/bench/lib.sh"
jar=${1:-$root/target/dht-node.jar}
hb=${BASE_HTTP_PORT:-25000} cb=${BASE_CLUSTER_PORT:-26000}
[ -f "$jar" ] || { echo "no jar at $jar (mvn -B -DskipTests package)" >&2; exit 2; }
tick=$(getconf CLK_TCK)
nginx_dir="" work=""
cleanup() {
  if [ -n "$nginx_dir" ]; then
    [ -f "$nginx_dir/nginx.pid" ] && kill "$(cat "$nginx_dir/nginx.pid")" 2>/dev/null
    rm -rf "$nginx_dir"
  fi
  if [ -n "$work" ]; then (cd "$work" && scripts/stop-cluster.sh >/dev/null 2>&1); rm -rf "$work"; fi
}
trap cleanup EXIT

measure() { # label url pids...
  local label=$1 u=$2 c c0 c1 out n
  shift 2
  for c in 16 64; do
    wrk -t2 -c"$c" -d5s "$u" >/dev/null 2>&1
    c0=$(cpu_ticks "$@")
    out=$(wrk -t2 -c"$c" -d15s --latency "$u" 2>&1)
    c1=$(cpu_ticks "$@")
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    printf '%-26s %3s conns %7s req/s  p50 %9s  p99 %9s  server CPU %s us/request\n' "$label" "$c" \
      "$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")" \
      "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
      "$(awk -v a="$c0" -v b="$c1" -v n="$n" -v t="$tick" 'BEGIN {printf "%.0f", (b - a) / t * 1e6 / n}')"
  done
}

if command -v nginx >/dev/null; then
  nginx_dir=$(mktemp -d)
  cat >"$nginx_dir/nginx.conf" <<EOF
worker_processes 2;
pid $nginx_dir/nginx.pid;
error_log $nginx_dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$((hb + 99)); location / { return 200 "ok"; } }
}
EOF
  nginx -c "$nginx_dir/nginx.conf" -p "$nginx_dir"
  for _ in $(seq 50); do [ -s "$nginx_dir/nginx.pid" ] && break; sleep 0.1; done
  # shellcheck disable=SC2046 # one pid per worker
  measure "nginx constant" "http://127.0.0.1:$((hb + 99))/" $(pgrep -P "$(cat "$nginx_dir/nginx.pid")")
else
  echo "nginx is not installed: skipping the machine's ceiling (apt-get install -y nginx-light)"
fi

work=$(mktemp -d /dev/shm/dht-ceiling.XXXXXX)
throwaway_copy "$root" "$work" "$jar" "$hb" "$cb"
(cd "$work" && JAVA_OPTS="-Xms64m -Xmx512m -Ddht.storage.fsync=off" scripts/start-cluster.sh 3 >/dev/null) \
  || { echo "the cluster did not start" >&2; exit 1; }
node1=$(cat "$work/run/node1.pid")
measure "dht-node GET /nowhere" "http://127.0.0.1:$hb/nowhere" "$node1"
measure "dht-node GET /health" "http://127.0.0.1:$hb/health" "$node1"
