#!/usr/bin/env bash
# Benchmarks dht-node with wrk: write (100% PUT), read (100% GET of preloaded keys) and mixed
# (50/50) workloads, 10,000 keys of 100 bytes, at 16 and 64 connections, all load sent to one
# node. Prints req/s, p50, p99 and errors per workload and appends one row per workload to
# docs/benchmarks.md (with the git commit and the durability mode).
#
# Method. Every key is written once before anything is measured, and the preload is counted,
# not timed: it ends when each of the KEYS writes has been answered, and the run stops unless
# all of them got a 2xx. JIT warm-up: after the preload, each system serves the mixed workload at
# the largest connection count for WARM_FIRST seconds, discarded (the JVMs compile the whole path
# then, instead of during the first measured workload); and before each measured run, the same
# workload at the same connections runs WARM seconds against the same system and is discarded.
# After each dht run it prints the SWIM suspicions and
# deaths every member counted during it (the change of dht_swim_suspicions_total and
# dht_swim_deaths_total on each node's /metrics): on a healthy cluster both stay 0.
#
#   scripts/bench.sh                  start a fresh 3-node cluster (a temporary copy of the
#                                     project, so data/ and run/ here are left alone), run, stop it
#   scripts/bench.sh --url URL        run against a running node instead (e.g. http://127.0.0.1:8000)
#   scripts/bench.sh --peer etcd      compare with a 3-member etcd cluster at equal durability, as
#                                     two pairs, each one run with the systems alternated per
#                                     workload, printed with dht/etcd ratios:
#                                       fsync=off  dht-node dht.storage.fsync=off against etcd,
#                                                  both systems' data on tmpfs (/dev/shm): neither
#                                                  pays for an fsync
#                                       fsync=on   dht-node dht.storage.fsync=on against etcd,
#                                                  both systems' data on disk (/var/tmp): each
#                                                  fsyncs before it acknowledges a write
#   --pair off|on|both                which pairs (default: both with --peer; without --peer the
#                                     node's configured fsync mode, data under TMPDIR, as before)
#   --no-record                       do not append to docs/benchmarks.md
#
# Env: SECS (measured seconds per run, 20), WARM (warm-up seconds before each run, 10),
#      WARM_FIRST (the mixed warm-up of each system before its first measured run, 30),
#      CONNS ("16 64"), THREADS (wrk threads, 2), KEYS (10000), VALUE_BYTES (100),
#      CONSISTENCY (node default), JAVA_OPTS (for the nodes it starts, default
#      "-Xms64m -Xmx512m"; a pair adds -Ddht.storage.fsync=off|on),
#      TMPFS_DIR (/dev/shm) and DISK_DIR (/var/tmp): where a pair keeps both systems' data
#      (checked to be tmpfs and not tmpfs), KEEP=1 keeps the temporary cluster directory,
#      BASE_HTTP_PORT / BASE_CLUSTER_PORT (8000 / 7000): node K of the cluster it starts listens on
#      BASE_HTTP_PORT+K-1 (HTTP) and BASE_CLUSTER_PORT+K-1 (SWIM and remoting) and joins through
#      BASE_CLUSTER_PORT, so a run can stay clear of a cluster already on 8000+ (set in the
#      temporary copy's conf files only; the project's conf/ is left alone).
# Needs wrk (apt-get install -y wrk); --peer etcd needs etcd and etcdctl
# (apt-get install -y etcd-server etcd-client), started by scripts/etcd-peer.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/bench/lib.sh
. "$root/scripts/bench/lib.sh"
url=""; peer=""; record=1; pair=""
while [ $# -gt 0 ]; do
  case $1 in
    --url) url=${2:?--url needs a URL}; shift 2 ;;
    --peer) peer=${2:?--peer needs a name (etcd)}; shift 2 ;;
    --pair) pair=${2:?--pair needs off, on or both}; shift 2 ;;
    --no-record) record=0; shift ;;
    -h|--help) sed -n '2,43p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see $0 --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$peer" ] && [ "$peer" != etcd ]; then
  echo "unknown peer: $peer (only etcd is supported)" >&2; exit 2
fi
case $pair in
  off|on) modes=("$pair") ;;
  both) modes=(off on) ;;
  "") if [ -n "$peer" ] && [ -z "$url" ]; then modes=(off on); else modes=(""); fi ;;
  *) echo "--pair must be off, on or both, was: $pair" >&2; exit 2 ;;
esac
if [ -n "$url" ] && [ ${#modes[@]} -gt 1 ]; then
  echo "--url measures one running cluster in its own fsync mode: give --pair off or --pair on (the mode it runs in)" >&2
  exit 2
fi
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed: apt-get install -y curl" >&2; exit 1; }
etcd_sh=$root/scripts/etcd-peer.sh
if [ -n "$peer" ]; then
  command -v etcd >/dev/null || { echo "etcd is not installed: apt-get install -y etcd-server etcd-client" >&2; exit 1; }
fi

SECS=${SECS:-20}; WARM=${WARM:-10}; WARM_FIRST=${WARM_FIRST:-30}; CONNS=${CONNS:-"16 64"}; THREADS=${THREADS:-2}
for v in SECS WARM WARM_FIRST THREADS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "$v must be a whole number of seconds (threads for THREADS), was: ${!v}" >&2; exit 2; }
done
export BENCH_DIR=$root/scripts/bench BENCH_KEYS=${KEYS:-10000} BENCH_VALUE_BYTES=${VALUE_BYTES:-100}
[ -n "${CONSISTENCY:-}" ] && export BENCH_CONSISTENCY=$CONSISTENCY
tmpfs_dir=${TMPFS_DIR:-/dev/shm}; disk_dir=${DISK_DIR:-/var/tmp}

work=""; etcd_dir=""
stop_dht() {
  if [ -n "$work" ] && [ -d "$work" ]; then
    "$work/scripts/stop-cluster.sh" || true
    if [ "${KEEP:-0}" = 1 ] || [ "${1:-0}" -ne 0 ]; then echo "cluster directory kept: $work"; else rm -rf "$work"; fi
  fi
  work=""
}
stop_etcd() {
  if [ -n "$etcd_dir" ]; then "$etcd_sh" stop "$etcd_dir" || true; rm -rf "$etcd_dir"; fi
  etcd_dir=""
}
cleanup() {
  local status=$?
  stop_dht $status
  stop_etcd
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ports_busy() { ss -ltnu 2>/dev/null | grep -E "127\.0\.0\.1:($1)\b|\*:($1)\b|0\.0\.0\.0:($1)\b" || true; }
fs_type() { df --output=fstype "$1" 2>/dev/null | tail -n 1 | tr -d ' '; }

# where a pair keeps both systems' data: tmpfs for fsync=off, a real filesystem for fsync=on
data_parent() {
  local dir type
  case $1 in
    off) dir=$tmpfs_dir ;;
    on) dir=$disk_dir ;;
    *) echo "${TMPDIR:-/tmp}"; return ;;
  esac
  [ -d "$dir" ] && [ -w "$dir" ] || { echo "$dir (data for the fsync=$1 pair) is not a writable directory" >&2; return 1; }
  type=$(fs_type "$dir")
  if [ "$1" = off ] && [ "$type" != tmpfs ]; then
    echo "TMPFS_DIR=$dir is on $type, not tmpfs: the fsync=off pair needs both systems' data in memory" >&2; return 1
  fi
  if [ "$1" = on ] && { [ "$type" = tmpfs ] || [ "$type" = ramfs ] || [ -z "$type" ]; }; then
    echo "DISK_DIR=$dir is on ${type:-an unknown filesystem}: the fsync=on pair needs a disk-backed directory" >&2; return 1
  fi
  echo "$dir"
}

http_base=${BASE_HTTP_PORT:-8000}; cluster_base=${BASE_CLUSTER_PORT:-7000}
for p in "$http_base" "$cluster_base"; do
  [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1024 ] && [ "$p" -le 65000 ] \
    || { echo "BASE_HTTP_PORT and BASE_CLUSTER_PORT must be ports in 1024..65000" >&2; exit 2; }
done
given_url=$url
jar=$root/target/dht-node.jar
if [ -z "$given_url" ] && [ ! -f "$jar" ]; then
  echo "building target/dht-node.jar ..."
  (cd "$root" && mvn -B -q -DskipTests package)
fi

start_dht() { # fsync mode ("" = as configured) -> a fresh 3-node cluster in a throwaway copy
  local mode=$1 parent busy opts
  busy=$(ports_busy "$http_base|$((http_base + 1))|$((http_base + 2))|$cluster_base|$((cluster_base + 1))|$((cluster_base + 2))")
  if [ -n "$busy" ]; then
    echo "ports $http_base-$((http_base + 2))/$cluster_base-$((cluster_base + 2)) are in use (another cluster?); stop it, use --url or other BASE_HTTP_PORT/BASE_CLUSTER_PORT:" >&2
    echo "$busy" >&2; exit 1
  fi
  parent=$(data_parent "$mode")
  # a throwaway copy: fresh data directories, and the user's own data/ and run/ stay untouched
  work=$(mktemp -d "$parent/dht-bench.XXXXXX")
  throwaway_copy "$root" "$work" "$jar" "$http_base" "$cluster_base"
  opts=${JAVA_OPTS:-"-Xms64m -Xmx512m"}
  [ -n "$mode" ] && opts="$opts -Ddht.storage.fsync=$mode"
  JAVA_OPTS=$opts "$work/scripts/start-cluster.sh" 3
  url=http://127.0.0.1:$http_base
}

start_etcd() { # fsync mode -> a fresh 3-member etcd with its data where the pair wants it
  local busy
  busy=$(ports_busy '2379|2380|22379|22380|32379|32380')
  [ -z "$busy" ] || { echo "etcd ports are in use:"; echo "$busy"; exit 1; } >&2
  etcd_dir=$(mktemp -d "$(data_parent "$1")/etcd-bench.XXXXXX")
  "$etcd_sh" start "$etcd_dir"
}

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit-dirty"
etcd_url=http://127.0.0.1:2379
etcd_version=""
[ -n "$peer" ] && etcd_version=$(etcd --version 2>/dev/null | awk '/etcd Version/ {print $3}')

script_of() { [ "$1" = etcd ] && echo "$BENCH_DIR/etcd.lua" || echo "$BENCH_DIR/kv.lua"; }
url_of() { [ "$1" = etcd ] && echo "$etcd_url" || echo "$url"; }

preload() { # system: every key written once, in order, by one thread; every write must get a 2xx
  local out answered ok
  out=$(BENCH_PRELOAD=1 BENCH_READ_RATIO=0 wrk -t1 -c8 -d300s --timeout 10s -s "$(script_of "$1")" "$(url_of "$1")" 2>&1 || true)
  read -r answered ok < <(sed -n 's/^preload: \([0-9]*\) answered, \([0-9]*\) 2xx.*/\1 \2/p' <<<"$out") || true
  if [ -z "${answered:-}" ]; then
    echo "preload of $1 did not finish in 300 s:" >&2; echo "$out" >&2; exit 1
  fi
  if [ "$answered" -ne "$BENCH_KEYS" ] || [ "$ok" -ne "$BENCH_KEYS" ]; then
    echo "preload of $1 failed: $(grep '^preload:' <<<"$out"), of $BENCH_KEYS writes; not measuring reads of keys that may be missing" >&2
    exit 1
  fi
  echo "preloaded $1: $ok of $BENCH_KEYS keys of $BENCH_VALUE_BYTES bytes written, each answered 2xx"
}

warm_up() { # system: the mixed workload at the largest connection count, discarded
  local c max=0
  for c in $CONNS; do [ "$c" -gt "$max" ] && max=$c; done
  [ "$WARM_FIRST" -gt 0 ] || return 0
  BENCH_READ_RATIO=0.5 wrk -t"$THREADS" -c"$max" -d"${WARM_FIRST}s" -s "$(script_of "$1")" "$(url_of "$1")" >/dev/null 2>&1 || true
  echo "warmed up $1: ${WARM_FIRST}s of the mixed workload at $max connections, discarded"
}

error_count() { # wrk output -> non-2xx responses + socket errors
  awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' <<<"$1"
}

# SWIM's view of each run: every member the node under load lists (name and HTTP address)
swim_nodes() {
  local body listed
  body=$(curl -sf --max-time 5 "$url/cluster/members" || true)
  listed=$(grep -o '"name":"[^"]*","host":"[^"]*","httpPort":[0-9]*' <<<"$body" \
    | sed 's/"name":"\([^"]*\)","host":"\([^"]*\)","httpPort":\([0-9]*\)/\1 http:\/\/\2:\3/' || true)
  echo "${listed:-node $url}"
}
swim_counts() { # node URL -> "suspicions deaths" it has counted, or "? ?" if it does not answer
  local metrics
  metrics=$(curl -sf --max-time 5 "$1/metrics") || { echo "? ?"; return; }
  awk '/^dht_swim_suspicions_total/ {s += $NF} /^dht_swim_deaths_total/ {d += $NF} END {printf "%d %d", s, d}' <<<"$metrics"
}
declare -A swim_before
swim_mark() { local name u; while read -r name u; do swim_before[$name]=$(swim_counts "$u"); done <<<"$swim_nodes"; }
swim_total_s=0; swim_total_d=0
swim_report() { # one line: each member's new suspicions and deaths since swim_mark
  local name u line="" s0 d0 s1 d1
  while read -r name u; do
    read -r s0 d0 <<<"${swim_before[$name]:-? ?}"
    read -r s1 d1 <<<"$(swim_counts "$u")"
    if [ "$s0" = "?" ] || [ "$s1" = "?" ]; then line+=" $name ?/?"; continue; fi
    line+=" $name $((s1 - s0))/$((d1 - d0))"
    swim_total_s=$((swim_total_s + s1 - s0)); swim_total_d=$((swim_total_d + d1 - d0))
  done <<<"$swim_nodes"
  echo "         SWIM suspicions/deaths seen during the run:$line"
}

declare -A result_of   # pair/system/workload/conns -> "req/s p50 p99 errors"
rows=(); summary=()
measure() { # pair system workload read-ratio conns
  local pair=$1 system=$2 workload=$3 ratio=$4 conns=$5 out rps p50 p99 errs
  [ "$system" = dht ] && swim_mark
  # JIT warm-up: the same workload, discarded
  BENCH_READ_RATIO=$ratio wrk -t"$THREADS" -c"$conns" -d"${WARM}s" -s "$(script_of "$system")" "$(url_of "$system")" >/dev/null 2>&1 || true
  out=$(BENCH_READ_RATIO=$ratio wrk -t"$THREADS" -c"$conns" -d"${SECS}s" --latency -s "$(script_of "$system")" "$(url_of "$system")" 2>&1)
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  errs=$(error_count "$out")
  result_of[$pair/$system/$workload/$conns]="$rps $p50 $p99 $errs"
  printf '%-8s %-6s %3s conns %8s req/s   p50 %8s ms   p99 %8s ms   %s errors\n' \
    "$system" "$workload" "$conns" "$rps" "$p50" "$p99" "$errs"
  [ "$system" = dht ] && swim_report
  local label="dht-node (3 nodes, ${CONSISTENCY:-quorum})" mode="$durability, data on $data_fs"
  if [ "$system" = etcd ]; then label="etcd $etcd_version (3 members)"; mode="raft log fsync, data on $etcd_fs"; fi
  rows+=("| $(date -u +%Y-%m-%d) | $commit | $label | $workload | $conns | $SECS s | $rps | $p50 ms | $p99 ms | $errs | $mode |")
}

pair_table() { # pair title: the pair's figures side by side, as printed at the end
  local pair=$1 c w d e
  summary+=("" "== $2 ==")
  if [ -n "$peer" ]; then
    summary+=("$(printf '%-6s %5s | %8s %8s %8s %6s | %8s %8s %8s %6s | %s' workload conns 'dht/s' p50 p99 errors 'etcd/s' p50 p99 errors dht/etcd)")
  else
    summary+=("$(printf '%-6s %5s | %8s %8s %8s %6s' workload conns 'dht/s' p50 p99 errors)")
  fi
  for c in $CONNS; do
    for w in write read mixed; do
      read -r -a d <<<"${result_of[$pair/dht/$w/$c]}"
      if [ -n "$peer" ]; then
        read -r -a e <<<"${result_of[$pair/etcd/$w/$c]}"
        summary+=("$(awk -v w="$w" -v c="$c" -v dr="${d[0]}" -v d50="${d[1]}" -v d99="${d[2]}" -v de="${d[3]}" \
          -v er="${e[0]}" -v e50="${e[1]}" -v e99="${e[2]}" -v ee="${e[3]}" 'BEGIN {
            printf "%-6s %5s | %8s %8s %8s %6s | %8s %8s %8s %6s | %.2f", w, c, dr, d50, d99, de, er, e50, e99, ee, (er > 0 ? dr / er : 0) }')")
      else
        summary+=("$(printf '%-6s %5s | %8s %8s %8s %6s' "$w" "$c" "${d[0]}" "${d[1]}" "${d[2]}" "${d[3]}")")
      fi
    done
  done
  summary+=("(req/s, p50 and p99 in ms; SWIM during the dht runs: $3)")
}

run_pair() { # fsync mode: "" runs the cluster as configured (or as found at --url)
  local mode=$1 title s0=$swim_total_s d0=$swim_total_d
  if [ -z "$given_url" ]; then start_dht "$mode"; fi
  url=${url%/}
  curl -sf -o /dev/null "$url/health" || { echo "no dht-node answers $url/health" >&2; exit 1; }
  # durability as the node reports it on /metrics (dht_node_info)
  durability=$(curl -sf "$url/metrics" | sed -n 's/^dht_node_info{.*fsync="\([a-z]*\)".*/fsync=\1/p' | head -n1)
  durability=${durability:-unknown}
  if [ -n "$mode" ] && [ "$durability" != "fsync=$mode" ]; then
    echo "the node at $url reports $durability, not fsync=$mode" >&2; exit 1
  fi
  if [ -z "$mode" ] && [ -n "$peer" ]; then mode=${durability#fsync=}; fi  # --url: etcd follows the node
  data_fs=$([ -n "$work" ] && fs_type "$work" || echo "?")
  local systems=(dht)
  if [ -n "$peer" ]; then start_etcd "$mode"; etcd_fs=$(fs_type "$etcd_dir"); systems+=(etcd); fi
  title="dht-node $durability (data on $data_fs)"
  [ -n "$peer" ] && title="pair fsync=$mode: $title against etcd $etcd_version (raft log fsynced, data on $etcd_fs)"
  echo
  echo "== $title =="
  echo "workloads: ${SECS}s measured after ${WARM}s warm-up each, conns: $CONNS, $THREADS wrk threads; commit $commit"
  for s in "${systems[@]}"; do preload "$s"; done
  for s in "${systems[@]}"; do warm_up "$s"; done
  swim_nodes=$(swim_nodes)
  echo "SWIM counted on: $(awk '{printf "%s%s", (NR > 1 ? ", " : ""), $1}' <<<"$swim_nodes")"
  local n=0 order
  for c in $CONNS; do
    for w in "write 0" "read 1" "mixed 0.5"; do
      set -- $w
      # alternate which system goes first, so neither always runs on a warmer (or busier) machine
      if [ $((n % 2)) -eq 1 ] && [ ${#systems[@]} -eq 2 ]; then order=(etcd dht); else order=("${systems[@]}"); fi
      for s in "${order[@]}"; do measure "${mode:-default}" "$s" "$1" "$2" "$c"; done
      n=$((n + 1))
    done
  done
  pair_table "${mode:-default}" "$title" \
    "$((swim_total_s - s0)) suspicions, $((swim_total_d - d0)) deaths, summed over the members"
  stop_etcd
  [ -z "$given_url" ] && stop_dht 0
  return 0
}

for m in "${modes[@]}"; do run_pair "$m"; done

echo
echo "SWIM over all dht runs: $swim_total_s suspicions, $swim_total_d deaths (summed over the members)"
printf '%s\n' "${summary[@]}"

if [ $record = 1 ]; then
  doc=$root/docs/benchmarks.md
  if ! grep -q '^## Run log' "$doc" 2>/dev/null; then
    mkdir -p "$(dirname "$doc")"
    printf '\n## Run log\n\nRows appended by `scripts/bench.sh` (one per workload and run).\n\n' >>"$doc"
    echo '| date | commit | target | workload | conns | measured | req/s | p50 | p99 | errors | durability |' >>"$doc"
    echo '|---|---|---|---|---|---|---|---|---|---|---|' >>"$doc"
  fi
  # the rows go at the end of the run log's table, which other sections may follow
  last=$(awk '/^## Run log/ {inlog = 1; next} inlog && /^\|/ {last = NR; seen = 1; next} inlog && seen {exit} END {print last + 0}' "$doc")
  new_rows=$(mktemp)
  printf '%s\n' "${rows[@]}" >"$new_rows"
  sed -i "${last}r $new_rows" "$doc"
  rm -f "$new_rows"
  echo "appended ${#rows[@]} rows to the run log in docs/benchmarks.md"
fi
