#!/usr/bin/env bash
# Issue 4's end-to-end benchmark: full pipeline vs a minimal no-framework pipeline over the same
# 1,000,000-change workload (and a hot-key workload), then scale-out with a slow sink on 1-3 nodes.
# Usage: bench/pipeline/run.sh [transactions (default 10000 = 1,000,000 changes)] [--repeat N (default 3; the median run is shown)] [--only throughput|scale]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
"$repo/deploy/local/servers.sh" start >/dev/null
eval "$("$repo/deploy/local/servers.sh" env)"
dotnet build "$here" -c Release -nologo -v quiet >/dev/null
# The same 64 MB gen0 budget deploy/local gives a node (an environment-only GC setting).
export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x4000000}"
exec dotnet "$here/bin/Release/net10.0/Replicator.Bench.Pipeline.dll" "$@"
