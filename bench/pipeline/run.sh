#!/usr/bin/env bash
# Issue 4's end-to-end benchmark: full pipeline vs a minimal no-framework pipeline over the same
# 1,000,000-change workload (and a hot-key workload), then scale-out with a slow sink on 1-3 nodes.
# Usage: bench/pipeline/run.sh [--baseline <git ref>] [transactions (default 10000 = 1,000,000 changes)] [--repeat N (default 3; the median run is shown)] [--only throughput|scale]
#   --baseline <ref>  must come first: also builds <ref> (exported with git archive) and runs its
#                     bench with the same arguments right after this tree's, for a before/after view.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
baseline=""
if [ "${1:-}" = "--baseline" ]; then
  baseline="${2:?--baseline needs a git ref}"
  shift 2
fi
"$repo/deploy/local/servers.sh" start >/dev/null
eval "$("$repo/deploy/local/servers.sh" env)"
dotnet build "$here" -c Release -nologo -v quiet >/dev/null
# The same 64 MB gen0 budget deploy/local gives a node (an environment-only GC setting).
export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x4000000}"
if [ -z "$baseline" ]; then
  exec dotnet "$here/bin/Release/net10.0/Replicator.Bench.Pipeline.dll" "$@"
fi

commit="$(git -C "$repo" rev-parse --short "$baseline^{commit}")"
tree="$(mktemp -d "${TMPDIR:-/tmp}/replicator-baseline-XXXXXX")"
trap 'rm -rf "$tree"' EXIT
git -C "$repo" archive "$commit" | tar -x -C "$tree"
dotnet build "$tree/bench/pipeline" -c Release -nologo -v quiet >/dev/null
echo "## this tree ($(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- src bench || echo ', with uncommitted changes'))"
dotnet "$here/bin/Release/net10.0/Replicator.Bench.Pipeline.dll" "$@"
echo
echo "## baseline $baseline ($commit)"
dotnet "$tree/bench/pipeline/bin/Release/net10.0/Replicator.Bench.Pipeline.dll" "$@"
