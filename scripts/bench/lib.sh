# Helpers shared by the benchmark scripts (bench.sh, bench/ab-run.sh, bench/ceiling.sh);
# sourced, not run.

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

to_ms() { # wrk latency (e.g. 812.00us, 3.21ms, 1.02s) -> milliseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}

# cpu_ticks PID...: the clock ticks (getconf CLK_TCK a second) the processes have used, user and
# system, all their threads (JIT and GC included)
cpu_ticks() {
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}
