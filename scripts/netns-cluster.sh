#!/usr/bin/env bash
# Runs nodes each in its own network namespace with its own address, as a stand-in for as many
# machines (run as root; needs iproute2 and curl). The layout is the one the partition tests use
# (src/test/java/dhtnode/it/NetnsCluster.java): a bridge in the root namespace with <prefix>.254,
# and per node K a namespace <name>-K whose eth0 (one end of a veth pair, the other end on the
# bridge) has <prefix>.K/24. Every node binds 0.0.0.0 and advertises <prefix>.K, and is set up
# only through environment variables, as on a machine (docs/deploy.md):
#   DHT_NODE_NAME=nodeK DHT_BIND_HOST=0.0.0.0 DHT_ADVERTISE_HOST=<prefix>.K
#   DHT_HTTP_PORT DHT_CLUSTER_PORT DHT_SEEDS=<prefix>.1:<cluster port> DHT_DATA_DIR=<state>/data/nodeK
# Any other DHT_* variable of the caller (e.g. DHT_CLUSTER_NAME) reaches the nodes as it is.
#
#   scripts/netns-cluster.sh start N   namespaces and nodes 1..N (node1 founds the cluster on its
#                                      first start); returns once every node answers /ready
#                                      and its ring holds all N with nothing left to fill
#   scripts/netns-cluster.sh add K     one more namespace and node K, joining through node1;
#                                      returns once it answers /health (it may be refused: e.g.
#                                      DHT_CLUSTER_NAME=other scripts/netns-cluster.sh add 4)
#   scripts/netns-cluster.sh status    each node's address, pid and /ready
#   scripts/netns-cluster.sh stop      stops every node it started (SIGTERM by pid, then SIGKILL)
#                                      and deletes every namespace, veth and the bridge it made
# Env: NETNS_NAME (namespace prefix, default dhtns; at most 8 characters, interface names are
#      short), NETNS_PREFIX (the /24, default 10.233.0), HTTP_PORT (8000), CLUSTER_PORT (7000),
#      NETNS_STATE (pids, logs, data; default run/netns under the project), JAVA_OPTS,
#      START_TIMEOUT seconds (120). stop uses the names start recorded in NETNS_STATE.
# Then e.g.: scripts/dhtctl --node 10.233.0.1:8000 status
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/cluster-lib.sh
. "$root/scripts/cluster-lib.sh"
state=${NETNS_STATE:-$root/run/netns}
cmd=${1:-}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need_root() {
  [ "$(id -u)" = 0 ] || { echo "$0 must run as root (it creates network namespaces)" >&2; exit 2; }
  command -v ip >/dev/null || { echo "$0 needs ip: apt-get install -y iproute2" >&2; exit 2; }
  command -v curl >/dev/null || { echo "$0 needs curl: apt-get install -y curl" >&2; exit 2; }
}

# the recorded layout, or the one the environment asks for
load_layout() {
  if [ -f "$state/layout" ]; then
    # shellcheck disable=SC1091
    . "$state/layout"
  else
    name=${NETNS_NAME:-dhtns}
    prefix=${NETNS_PREFIX:-10.233.0}
    http_port=${HTTP_PORT:-8000}
    cluster_port=${CLUSTER_PORT:-7000}
  fi
  if ! [[ "$name" =~ ^[a-z][a-z0-9]{0,7}$ ]]; then
    echo "NETNS_NAME must be 1-8 lowercase letters and digits, starting with a letter: $name" >&2
    exit 2
  fi
  bridge=${name}b
}

save_layout() {
  mkdir -p "$state"
  printf 'name=%s\nprefix=%s\nhttp_port=%s\ncluster_port=%s\n' \
    "$name" "$prefix" "$http_port" "$cluster_port" >"$state/layout"
}

# a process killed with SIGKILL stays a zombie until it is reaped: kill -0 still finds it
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

make_bridge() {
  if [ -n "$(ip -4 route show "$prefix.0/24")" ]; then
    echo "$prefix.0/24 is already routed here ($(ip -4 route show "$prefix.0/24" | head -n 1)):" \
      "another cluster, or a leftover; run '$0 stop' or set NETNS_PREFIX" >&2
    exit 1
  fi
  ip link add "$bridge" type bridge
  echo "$bridge" >"$state/links"
  ip addr add "$prefix.254/24" dev "$bridge"
  ip link set "$bridge" up
}

make_namespace() { # K
  local ns=$name-$1 veth=${name}v$1
  if ip netns list | grep -qw "^$ns"; then
    echo "namespace $ns exists already" >&2
    exit 1
  fi
  ip netns add "$ns"
  echo "$ns" >>"$state/namespaces"
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip link set "$veth" master "$bridge"
  ip link set "$veth" up
  ip -n "$ns" addr add "$prefix.$1/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
}

start_node() { # K
  local k=$1 ns=$name-$1 found=""
  local jar=$root/target/dht-node.jar
  [ -f "$jar" ] || (cd "$root" && mvn -B -q -DskipTests package)
  mkdir -p "$state/data"
  if [ "$k" = 1 ] && [ ! -e "$state/data/node1" ]; then
    found="-Ddht.ring.found-cluster=on" # a fresh cluster: node1 founds it
  fi
  local java_opts=${JAVA_OPTS:-"-Xms64m -Xmx512m"}
  # ip netns exec, env, nohup and java each exec the next: $! is the node's own pid
  # shellcheck disable=SC2086
  ip netns exec "$ns" env \
    DHT_NODE_NAME="node$k" DHT_BIND_HOST=0.0.0.0 DHT_ADVERTISE_HOST="$prefix.$k" \
    DHT_HTTP_PORT="$http_port" DHT_CLUSTER_PORT="$cluster_port" \
    DHT_SEEDS="$prefix.1:$cluster_port" DHT_DATA_DIR="$state/data/node$k" \
    nohup java $java_opts $found -jar "$jar" >>"$state/node$k.log" 2>&1 &
  echo $! >"$state/node$k.pid"
}

# polls CHECK ARGS... until it succeeds, while node K runs, within START_TIMEOUT; else fails
# saying WHAT did not happen and showing the node's log if it exited
await_check() { # K WHAT CHECK ARGS...
  local k=$1 what=$2
  shift 2
  local deadline=$(($(date +%s) + ${START_TIMEOUT:-120}))
  until "$@"; do
    if ! alive "$(cat "$state/node$k.pid")"; then
      echo "node$k exited during start; last lines of $state/node$k.log:" >&2
      tail -n 20 "$state/node$k.log" >&2
      exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "node$k $what in time; see $state/node$k.log" >&2
      exit 1
    fi
    sleep 0.2 # pacing between polls; the deadline bounds the wait
  done
}

answers() { # URL: 200 from it
  curl -sf -o /dev/null --max-time 2 "$1"
}

# node K's ring holds at least N members and it has nothing left to fill: /ready alone may be
# true earlier, for a founder alone in its first ring
settled() { # K N
  local url="http://$prefix.$1:$http_port"
  [ "$(ring_size "$url")" -ge "$2" ] && is_settled "$url"
}

# waits until node K answers PATH with 200
await() { # K PATH
  local url="http://$prefix.$1:$http_port$2"
  await_check "$1" "did not answer $url" answers "$url"
}

# waits until node K is settled in a ring of at least N
await_settled() { # K N
  await_check "$1" "has not settled on a ring of $2 (see /cluster/ring)" settled "$1" "$2"
}

case "$cmd" in
  start)
    n=${2:-}
    [[ "$n" =~ ^[1-9]$ ]] || usage
    need_root
    if [ -f "$state/namespaces" ]; then
      echo "$state holds a running layout: run '$0 stop' first" >&2
      exit 1
    fi
    rm -f "$state/layout" # a new layout, from the environment
    load_layout
    mkdir -p "$state"
    save_layout
    make_bridge
    for k in $(seq 1 "$n"); do
      make_namespace "$k"
    done
    for k in $(seq 1 "$n"); do
      start_node "$k"
    done
    for k in $(seq 1 "$n"); do
      await "$k" /health
    done
    for k in $(seq 1 "$n"); do
      await "$k" /ready
      await_settled "$k" "$n"
      echo "node$k  http://$prefix.$k:$http_port  cluster $prefix.$k:$cluster_port  pid $(cat "$state/node$k.pid")"
    done
    ;;
  add)
    k=${2:-}
    [[ "$k" =~ ^[1-9]$ ]] || usage
    need_root
    [ -f "$state/layout" ] || { echo "nothing started: run '$0 start N' first" >&2; exit 1; }
    load_layout
    make_namespace "$k"
    start_node "$k"
    await "$k" /health
    echo "node$k  http://$prefix.$k:$http_port  cluster $prefix.$k:$cluster_port  pid $(cat "$state/node$k.pid")"
    ;;
  status)
    [ -f "$state/layout" ] || { echo "nothing started"; exit 0; }
    load_layout
    for pidfile in "$state"/node*.pid; do
      [ -e "$pidfile" ] || continue
      k=${pidfile##*/node}; k=${k%.pid}
      pid=$(cat "$pidfile")
      if alive "$pid"; then
        ready=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://$prefix.$k:$http_port/ready" || true)
        echo "node$k  $prefix.$k  pid $pid  /ready $ready"
      else
        echo "node$k  $prefix.$k  not running"
      fi
    done
    ;;
  stop)
    need_root
    [ -d "$state" ] || exit 0
    for pidfile in "$state"/node*.pid; do
      [ -e "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      alive "$pid" && kill -TERM "$pid" 2>/dev/null || true
    done
    for pidfile in "$state"/node*.pid; do
      [ -e "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      for _ in $(seq 1 100); do
        alive "$pid" || break
        sleep 0.2 # pacing; bounded to 20 s, then SIGKILL
      done
      alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    done
    if [ -f "$state/namespaces" ]; then
      while read -r ns; do
        # anything else still running in the namespace, by pid
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
          kill -KILL "$pid" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true # takes its end of the veth pair, and so the pair
      done <"$state/namespaces"
      rm -f "$state/namespaces"
    fi
    if [ -f "$state/links" ]; then
      while read -r link; do
        ip link del "$link" 2>/dev/null || true
      done <"$state/links"
      rm -f "$state/links"
    fi
    rm -f "$state/layout"
    echo "stopped; logs and data stay in $state"
    ;;
  *)
    usage
    ;;
esac
