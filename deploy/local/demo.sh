#!/usr/bin/env bash
# The demo: starts the local MariaDB and Redis, builds Replicator, runs one node with
# hocon/demo.conf, writes inserts, updates and deletes into MariaDB, waits until Redis holds
# exactly the tables' rows, and prints what was replicated, the lag and the comparison.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

"$here/servers.sh" start >/dev/null
eval "$("$here/servers.sh" env)"
command -v curl >/dev/null 2>&1 || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq curl >/dev/null; }

admin_port="${REPLICATOR_DEMO_ADMIN_PORT:-19090}"
mysql_port="${REPLICATOR_MARIADB_PORT:-13306}"
redis_port="${REPLICATOR_REDIS_PORT:-16379}"
sql() { mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"$mysql_port" -ureplicator_admin -p"${REPLICATOR_ADMIN_PASSWORD:-admin-dev-password}" "$@"; }

echo "== building"
dotnet build src/Replicator.Host -c Release -nologo -v quiet >/dev/null
replicator=(dotnet "src/Replicator.Host/bin/Release/net10.0/replicator.dll")
# A 64 MB gen0 budget: a capture allocates per row, and the default budget (sized from this
# machine's cache) collects gen0 about four times as often. The GC reads this setting only from
# the environment.
export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x4000000}"

echo "== resetting the demo schema, its Redis keys and the node's state"
sql -e "DROP DATABASE IF EXISTS replicator_demo; CREATE DATABASE replicator_demo CHARACTER SET utf8mb4;"
redis-cli -h 127.0.0.1 -p "$redis_port" --scan --pattern 'demo:*' | xargs -r -n 500 redis-cli -h 127.0.0.1 -p "$redis_port" DEL >/dev/null
rm -rf .local/demo-node data/demo
mkdir -p .local

if curl -fsS "127.0.0.1:$admin_port/status" >/dev/null 2>&1; then
  echo "port $admin_port already answers: another node is running (stop it, or set REPLICATOR_DEMO_ADMIN_PORT)"
  exit 1
fi

echo "== starting a node (log: .local/demo-node.log)"
"${replicator[@]}" run --config hocon/demo.conf --admin "127.0.0.1:$admin_port" >.local/demo-node.log 2>&1 &
node_pid=$!
trap 'kill -TERM $node_pid 2>/dev/null || true; wait $node_pid 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
  if curl -fsS "127.0.0.1:$admin_port/status" 2>/dev/null | grep -q '"current_offset": "'; then break; fi
  kill -0 $node_pid 2>/dev/null || { echo "the node exited; its log:"; tail -30 .local/demo-node.log; exit 1; }
  sleep 0.5
done
curl -fsS "127.0.0.1:$admin_port/status" | grep -q '"current_offset": "' || { echo "the capture did not start; see .local/demo-node.log"; tail -30 .local/demo-node.log; exit 1; }

echo "== writing to MariaDB: 6000 inserts, updates of a hot set, deletes, pk changes"
sql replicator_demo < "$here/demo.sql"
written_at=$(date +%s.%N)
source_rows=$(sql -N -e "SELECT (SELECT COUNT(*) FROM replicator_demo.customers) + (SELECT COUNT(*) FROM replicator_demo.orders)")

echo "== waiting until Redis matches MariaDB"
matched=""
for _ in $(seq 1 240); do
  kill -0 $node_pid 2>/dev/null || { echo "the node exited; its log:"; tail -30 .local/demo-node.log; exit 1; }
  if out=$("${replicator[@]}" check --source-env REPLICATOR_MARIADB_CDC --redis "$REPLICATOR_REDIS" --tables 'replicator_demo.*' --key-prefix demo: --quiet 2>&1); then
    matched="$out"; break
  fi
  sleep 0.5
done
done_at=$(date +%s.%N)

status=$(curl -fsS "127.0.0.1:$admin_port/status" || echo '{}')
applied=$(echo "$status" | grep -o '"applied": [0-9]*' | head -1 | grep -o '[0-9]*$')
captured=$(echo "$status" | grep -o '"changes_captured": [0-9]*' | head -1 | grep -o '[0-9]*$')
coalesced=$(echo "$status" | grep -o '"coalesced": [0-9]*' | head -1 | grep -o '[0-9]*$')
echo
echo "Row changes captured from the binlog: $captured"
echo "Row changes applied to Redis:         $applied (coalesced by dedupe: $coalesced)"
echo "Rows in MariaDB now:                  $source_rows"
awk -v a="$written_at" -v b="$done_at" 'BEGIN { printf "Lag (last commit -> Redis matches):   %.2f s\n", b - a }' 
echo "Sample: HGETALL demo:replicator_demo:orders:33"
redis-cli -h 127.0.0.1 -p "$redis_port" HGETALL demo:replicator_demo:orders:33 | paste - - | sed 's/^/  /'
echo
if [ -n "$matched" ]; then
  echo "Comparison: $matched"
  exit 0
fi
echo "Comparison: Redis did not match MariaDB within 120 s:"
"${replicator[@]}" check --source-env REPLICATOR_MARIADB_CDC --redis "$REPLICATOR_REDIS" --tables 'replicator_demo.*' --key-prefix demo: || true
exit 1
