# Reading a node's ring and stabilization state, and making throwaway cluster copies, for the
# cluster and benchmark scripts (sourced, not run).

# ring_size URL -> the number of members in the ring of the node at URL (0 if it does not answer)
ring_size() {
  curl -sf --max-time 2 "$1/cluster/ring" | grep -o '"members":\[[^]]*\]' | sed 's/"members"://' \
    | grep -o '"[^"]*"' | wc -l || true
}

# is_settled URL: the node at URL is at a stable ring epoch with nothing left to fill
is_settled() {
  local stab
  # captured first: under pipefail, grep -q closing the pipe early would fail curl
  stab=$(curl -sf --max-time 2 "$1/cluster/stabilization" || true)
  [[ "$stab" == *'"settled":true'* ]]
}

# throwaway_copy ROOT DIR JAR HTTP_BASE CLUSTER_BASE: DIR becomes a copy of ROOT's scripts and
# conf with JAR as target/dht-node.jar, node K listening on HTTP_BASE+K-1 (HTTP) and
# CLUSTER_BASE+K-1 (SWIM and remoting) and joining through CLUSTER_BASE, so a benchmark's
# cluster has fresh data and stays clear of one already on 8000+ (ROOT's own conf is untouched)
throwaway_copy() {
  local root=$1 dir=$2 jar=$3 http_base=$4 cluster_base=$5 conf k
  mkdir -p "$dir/target"
  cp -r "$root/scripts" "$root/conf" "$dir/"
  ln "$jar" "$dir/target/dht-node.jar" 2>/dev/null || cp "$jar" "$dir/target/dht-node.jar"
  for conf in "$dir"/conf/node*.conf; do
    k=${conf##*/node}; k=${k%.conf}
    sed -i -E -e "s/(http-port[[:space:]]*=[[:space:]]*)[0-9]+/\1$((http_base + k - 1))/" \
      -e "s/(cluster-port[[:space:]]*=[[:space:]]*)[0-9]+/\1$((cluster_base + k - 1))/" "$conf"
    printf '\ndht.node.seeds = ["127.0.0.1:%s"]\n' "$cluster_base" >>"$conf"
  done
}
