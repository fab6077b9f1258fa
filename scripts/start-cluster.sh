#!/usr/bin/env bash
# Starts nodes 1..N (default 3) of the local cluster in the background, from conf/nodeK.conf,
# and waits until every node answers /health, is ready (/ready) and is settled. Builds
# target/dht-node.jar first if it is missing.
#   scripts/start-cluster.sh [N]        N in 1..8
# Logs: run/nodeK.log   pids: run/nodeK.pid   data: data/nodeK   (all under the project root)
# Env: JAVA_OPTS (default "-Xms64m -Xmx512m"), START_TIMEOUT seconds (default 120).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/cluster-lib.sh
. "$root/scripts/cluster-lib.sh"
n=${1:-3}
if ! [[ "$n" =~ ^[1-8]$ ]]; then
  echo "usage: $0 [N]   (N = number of nodes, 1..8; conf/node1.conf .. conf/node8.conf)" >&2
  exit 2
fi
command -v curl >/dev/null || { echo "$0 needs curl to see the nodes come up: apt-get install -y curl" >&2; exit 2; }
cd "$root"
jar=target/dht-node.jar
if [ ! -f "$jar" ]; then
  echo "building $jar (first run only) ..."
  mvn -B -q -DskipTests package
fi
mkdir -p run
java_opts=${JAVA_OPTS:-"-Xms64m -Xmx512m"}

# A fresh local cluster (no node has a data dir yet) is founded by node1; otherwise every node
# joins the cluster that exists, so a node whose data dir was lost does not found a new one.
data_dir() { # K -> node K's data dir, as its conf file sets it (data/nodeK in the shipped files)
  local d
  d=$(grep -o 'data-dir[[:space:]]*=[[:space:]]*"[^"]*"' "conf/node$1.conf" | head -n 1 | sed 's/.*"\(.*\)"/\1/' || true)
  echo "${d:-data/node$1}"
}
fresh=yes
for conf in conf/node*.conf; do
  k=${conf#conf/node}; k=${k%.conf}
  if [ -e "$(data_dir "$k")" ]; then
    fresh=no
  fi
done

# a process killed with SIGKILL stays a zombie until it is reaped: kill -0 still finds it
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

started=()
for k in $(seq 1 "$n"); do
  pidfile=run/node$k.pid
  if [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; then
    echo "node$k already running (pid $(cat "$pidfile"))"
    continue
  fi
  found=""
  if [ "$k" = 1 ] && [ "$fresh" = yes ]; then
    found="-Ddht.ring.found-cluster=on"
    echo "no data dir yet: node1 founds a new cluster"
  fi
  # shellcheck disable=SC2086
  nohup java $java_opts $found -Dconfig.file="conf/node$k.conf" -jar "$jar" >"run/node$k.log" 2>&1 &
  echo $! >"$pidfile"
  started+=("$k")
done

# the HTTP port of node K, as its conf file sets it (8000+K-1 in the shipped files)
http_port() {
  local p
  p=$(grep -o 'http-port[[:space:]]*=[[:space:]]*[0-9][0-9]*' "conf/node$1.conf" | head -n 1 | grep -o '[0-9][0-9]*$' || true)
  echo "${p:-$((8000 + $1 - 1))}"
}

deadline=$(( $(date +%s) + ${START_TIMEOUT:-120} ))
for k in $(seq 1 "$n"); do
  port=$(http_port "$k")
  until curl -sf -o /dev/null "http://127.0.0.1:$port/health"; do
    if ! alive "$(cat "run/node$k.pid")"; then
      echo "node$k exited during start; last lines of run/node$k.log:" >&2
      tail -n 20 "run/node$k.log" >&2
      rm -f "run/node$k.pid"
      exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "node$k did not answer http://127.0.0.1:$port/health in time; see run/node$k.log" >&2
      exit 1
    fi
    sleep 0.2
  done
done

# the cluster serves quorum requests once every node's ring holds every started node
for k in $(seq 1 "$n"); do
  port=$(http_port "$k")
  until [ "$(ring_size "http://127.0.0.1:$port")" -ge "$n" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "node$k does not see all $n nodes in its ring yet; see run/node$k.log and /cluster/members" >&2
      exit 1
    fi
    sleep 0.2
  done
done

# ... once every node is ready: in the ring, reaching a majority of it, not refilling (GET /ready)
for k in $(seq 1 "$n"); do
  port=$(http_port "$k")
  until curl -sf -o /dev/null "http://127.0.0.1:$port/ready"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "node$k is not ready yet; see run/node$k.log and http://127.0.0.1:$port/ready" >&2
      exit 1
    fi
    sleep 0.2
  done
done

# ... and once every node is at a stable ring epoch with nothing left to fill
for k in $(seq 1 "$n"); do
  port=$(http_port "$k")
  until is_settled "http://127.0.0.1:$port"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "node$k is still filling ranges; see run/node$k.log and /cluster/stabilization" >&2
      exit 1
    fi
    sleep 0.2
  done
done

echo "cluster up: $n node(s), every ring holds all of them, no range pending"
for k in $(seq 1 "$n"); do
  echo "  node$k  http://127.0.0.1:$(http_port "$k")  (pid $(cat "run/node$k.pid"), log run/node$k.log)"
done
echo "stop with: scripts/stop-cluster.sh"
