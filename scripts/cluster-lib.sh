# Reading a node's ring and stabilization state, for the cluster scripts (sourced, not run).

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
