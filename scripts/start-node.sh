#!/usr/bin/env bash
# Runs one node in the foreground (Ctrl-C stops it gracefully).
#   scripts/start-node.sh conf/node1.conf
# Builds target/dht-node.jar first if it is missing. Env: JAVA_OPTS.
set -euo pipefail
conf=${1:?usage: $0 CONF   e.g. $0 conf/node1.conf}
[ -f "$conf" ] || { echo "no such config file: $conf" >&2; exit 2; }
conf=$(cd "$(dirname "$conf")" && pwd)/$(basename "$conf")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ ! -f target/dht-node.jar ]; then
  mvn -B -q -DskipTests package
fi
java_opts=${JAVA_OPTS:-"-Xms64m -Xmx512m"}
# shellcheck disable=SC2086
exec java $java_opts -Dconfig.file="$conf" -jar target/dht-node.jar
