#!/usr/bin/env bash
# Stops every node started by start-cluster.sh: SIGTERM (graceful: the node leaves the cluster and
# closes its storage), waits, and only if a node is still running after STOP_TIMEOUT seconds
# (default 20) sends SIGKILL. Reports what happened to each node.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
shopt -s nullglob
pidfiles=(run/node*.pid)
if [ ${#pidfiles[@]} -eq 0 ]; then
  echo "no nodes running (no run/node*.pid)"
  exit 0
fi
for f in "${pidfiles[@]}"; do
  pid=$(cat "$f")
  kill -TERM "$pid" 2>/dev/null || true
done
deadline=$(( $(date +%s) + ${STOP_TIMEOUT:-20} ))
status=0
for f in "${pidfiles[@]}"; do
  name=$(basename "$f" .pid)
  pid=$(cat "$f")
  while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    echo "$name (pid $pid) did not stop in time: killed"
    status=1
  else
    echo "$name (pid $pid) stopped"
  fi
  rm -f "$f"
done
exit $status
