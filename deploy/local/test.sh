#!/usr/bin/env bash
# Starts the local MariaDB and Redis and runs every test project. Integration tests find the
# servers through the environment set here and fail (not skip) without them. Ends with one line:
# "N passed, N failed", summed over all test projects.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

"$here/servers.sh" start >/dev/null || { echo "the local servers did not start"; echo "0 passed, 1 failed"; exit 1; }
eval "$("$here/servers.sh" env)"
export REPLICATOR_REQUIRE_SERVERS=1

mkdir -p artifacts
if ! dotnet build Replicator.sln -c Release -nologo -v quiet >artifacts/build.log 2>&1; then
  cat artifacts/build.log
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
crashed=()
# The fault suite (tests/Replicator.FaultTests: private servers, three-node clusters, kill -9) is
# the longest; it runs last.
projects=()
# Test projects are named *Tests; tests/Replicator.Testing is a library they share, with no tests.
for project in tests/*/*Tests.csproj; do
  case "$project" in */Replicator.FaultTests.csproj) ;; *) projects+=("$project") ;; esac
done
[ -f tests/Replicator.FaultTests/Replicator.FaultTests.csproj ] && projects+=(tests/Replicator.FaultTests/Replicator.FaultTests.csproj)
rm -f artifacts/fault-report.json artifacts/fault-report.md
for project in "${projects[@]}"; do
  name="$(basename "$project" .csproj)"
  log="artifacts/$name.log"
  # --blame keeps a sequence file of the tests a host ran, so that a crash names its test.
  rm -rf "artifacts/blame/$name"
  dotnet test "$project" -c Release --no-build -nologo --blame --results-directory "artifacts/blame/$name" "$@" >"$log" 2>&1
  summary="$(grep -E '^(Passed|Failed)! +- Failed: ' "$log" | tail -1)"
  aborted="$(grep -E 'test run was aborted|Test host process crashed|The active test run was aborted' "$log" | head -3)"
  if [ -z "$summary" ] || [ -n "$aborted" ]; then
    echo "$name: the test host did not finish (crashed or aborted); see $log"
    last="$(find "artifacts/blame/$name" -name 'Sequence_*.xml' -exec grep -ho 'Name="[^"]*"' {} + 2>/dev/null | tail -3 | tr '\n' ' ')"
    crashed+=("$name: ${aborted:-no test summary}; last tests started: ${last:-unknown}")
    tail -20 "$log"
    if [ -z "$summary" ]; then failed=$((failed + 1)); continue; fi
  fi
  p="$(echo "$summary" | sed -E 's/.*Passed: +([0-9]+).*/\1/')"
  f="$(echo "$summary" | sed -E 's/.*Failed: +([0-9]+),.*/\1/')"
  echo "$name: $p passed, $f failed"
  if [ "$f" -gt 0 ]; then grep -E -A4 '^\s+Failed ' "$log" | head -60; fi
  passed=$((passed + p))
  failed=$((failed + f))
done
if [ -f artifacts/fault-report.json ]; then
  echo "fault suite report (artifacts/fault-report.md):"
  cat artifacts/fault-report.json
  # A failed scenario's evidence stays in artifacts/faults/<scenario>/, which a CI machine does not
  # keep: print its timeline and the nodes' cluster, delivery and error lines, shortened.
  for scenario in $(grep -v '"result":"pass"' artifacts/fault-report.json | sed -nE 's/^\{"scenario":"([^"]+)".*/\1/p'); do
    dir="artifacts/faults/$scenario"
    [ -d "$dir" ] || continue
    echo "--- $scenario evidence: timeline ---"
    cut -c1-300 "$dir/timeline.log" 2>/dev/null | head -80
    for node_log in "$dir"/node*.log; do
      echo "--- $scenario evidence: $(basename "$node_log") ---"
      grep -E 'ERROR|re-deliver|left the cluster|Leader is|SBR|Rebalanc|hand.?off|unreachable|Starting|reading|stopped with' "$node_log" \
        | sed -E 's/^\[([A-Z]+)\]\[[0-9/]+ ([0-9:.]+)Z\]\[Thread [0-9]+\]/\1 \2/' | cut -c1-240 | tail -60
    done
  done
fi
if [ "$failed" -gt 0 ]; then
  # Repeated last, so that the tail of a CI log (which may be all a reader gets) says what failed.
  echo "failed tests:"
  grep -h -E -A3 '^\s+Failed ' artifacts/*.log 2>/dev/null | grep -v -E '^\s*(--|Error Message:)$' | cut -c1-400 | head -40
  for line in "${crashed[@]}"; do echo "$line" | cut -c1-600; done
fi
if [ -f artifacts/fault-report.json ] && grep -qv '"result":"pass"' artifacts/fault-report.json; then
  # Repeated last, so that the tail of a CI log (which may be all a reader gets) says why.
  echo "failed fault scenarios, their verdicts:"
  for scenario in $(grep -v '"result":"pass"' artifacts/fault-report.json | sed -nE 's/^\{"scenario":"([^"]+)".*/\1/p'); do
    grep -E "\] $scenario $scenario fail in " "artifacts/faults/$scenario/timeline.log" 2>/dev/null | cut -c1-1500 | tail -1
  done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
