#!/usr/bin/env bash
# Capture benchmark (issue 3, "Performance"). A benchmark, not a test: it prints figures.
#
# Builds a 1,000,000-change workload in a fresh schema of the local MariaDB: 10,000 transactions,
# each a 50-row INSERT, 40 single-row UPDATEs of a 10,000-row hot set and a 10-row DELETE, written
# into fresh binlog files (FLUSH BINARY LOGS before and after; the range is printed). Then reads
# that range, one reader after the other, and prints rows/s and the ratios:
#   (a) capture-bench: the project's BinlogClient + ChangeExtractor, every row decoded to typed
#       values and turned into a change (non-blocking dump over exactly the range, after an untimed
#       warm-up read of its first 100,000 events; see CaptureBench/Program.cs);
#   (b) mariadb-binlog --read-from-remote-server --base64-output=DECODE-ROWS -v over the files;
#   (c) @vlasky/zongji (Node.js), from the first file to the end of the range;
#   (d) replicator tail --from-start --until-now --tables <schema>.* > /dev/null, what a user sees
#       (it reads every binlog on the server from the oldest, not only the range).
#
# Usage: bench/capture/run.sh [--private] [--baseline <git ref>]
#   default    the local MariaDB of deploy/local (connection strings from `deploy/local/servers.sh env`,
#              or from REPLICATOR_MARIADB_ADMIN / REPLICATOR_MARIADB_CDC when set). Needs the sequence
#              engine (seq_1_to_N), an admin user that may FLUSH BINARY LOGS and CREATE PROCEDURE, and
#              a capture user with REPLICATION SLAVE, REPLICATION CLIENT and SELECT.
#   --private  a private mariadbd (same binlog settings) in a temporary directory instead, removed
#              afterwards; leaves the shared server's binlog alone.
#   --baseline <ref>  also builds <ref> (a commit, tag or branch, exported with git archive) and runs
#              its (a) and (d) on the same workload right after this tree's, for a before/after table.
# Needs: dotnet, mariadb, mariadb-binlog, node and npm (zongji is installed into bench/capture/zongji/node_modules).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
private=0
baseline=""
while [ $# -gt 0 ]; do
  case "$1" in
    --private) private=1 ;;
    --baseline) baseline="${2:?--baseline needs a git ref}"; shift ;;
    *) printf 'unknown option %s (use --private, --baseline <ref>)\n' "$1" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }
# cs_get <key> <connection string>: one value of a MySqlConnector-style connection string.
cs_get() { printf '%s' "$2" | tr ';' '\n' | sed -n "s/^[[:space:]]*$1[[:space:]]*=//Ip" | head -1; }

workdir="$(mktemp -d "${TMPDIR:-/tmp}/replicator-bench-XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

if [ "$private" = 1 ]; then
  say "starting a private mariadbd in $workdir"
  mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$workdir/data" --auth-root-authentication-method=socket --skip-test-db >/dev/null 2>&1
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  mariadbd=/usr/sbin/mariadbd; [ -x "$mariadbd" ] || mariadbd=mariadbd
  "$mariadbd" --no-defaults --user="$(id -un)" --datadir="$workdir/data" --socket="$workdir/sock" --port="$port" \
    --bind-address=127.0.0.1 --pid-file="$workdir/pid" --skip-name-resolve --server-id=1 --log-bin=binlog \
    --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL --character-set-server=utf8mb4 \
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 >"$workdir/mariadbd.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do mariadb -S "$workdir/sock" -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
  mariadb -S "$workdir/sock" -e "CREATE USER bench_cdc@'127.0.0.1' IDENTIFIED BY 'bench'; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO bench_cdc@'127.0.0.1';"
  admin=(mariadb -S "$workdir/sock")
  cdc_cs="Server=127.0.0.1;Port=$port;User ID=bench_cdc;Password=bench"
else
  if [ -z "${REPLICATOR_MARIADB_ADMIN:-}" ] || [ -z "${REPLICATOR_MARIADB_CDC:-}" ]; then
    eval "$("$repo/deploy/local/servers.sh" env)"
  fi
  admin_cs="$REPLICATOR_MARIADB_ADMIN"
  admin=(mariadb -h "$(cs_get Server "$admin_cs")" -P "$(cs_get Port "$admin_cs")" -u "$(cs_get 'User ID' "$admin_cs")" "-p$(cs_get Password "$admin_cs")")
  cdc_cs="$REPLICATOR_MARIADB_CDC"
fi
cdc_host="$(cs_get Server "$cdc_cs")"; cdc_port="$(cs_get Port "$cdc_cs")"
cdc_user="$(cs_get 'User ID' "$cdc_cs")"; cdc_password="$(cs_get Password "$cdc_cs")"
sql() { "${admin[@]}" --batch --skip-column-names -e "$1"; }
sql_script() { "${admin[@]}" --batch --skip-column-names; }

say "building (Release)"
dotnet build "$repo/src/Replicator.Host" -c Release -nologo -v quiet >"$workdir/build.log" 2>&1 || { cat "$workdir/build.log"; exit 1; }
dotnet build "$here/CaptureBench" -c Release -nologo -v quiet >>"$workdir/build.log" 2>&1 || { cat "$workdir/build.log"; exit 1; }
if [ -n "$baseline" ]; then
  baseline_commit="$(git -C "$repo" rev-parse --short "$baseline^{commit}")"
  say "building the baseline $baseline ($baseline_commit)"
  mkdir -p "$workdir/baseline"
  git -C "$repo" archive "$baseline_commit" | tar -x -C "$workdir/baseline"
  dotnet build "$workdir/baseline/src/Replicator.Host" -c Release -nologo -v quiet >>"$workdir/build.log" 2>&1 || { cat "$workdir/build.log"; exit 1; }
  dotnet build "$workdir/baseline/bench/capture/CaptureBench" -c Release -nologo -v quiet >>"$workdir/build.log" 2>&1 || { cat "$workdir/build.log"; exit 1; }
fi
if [ ! -d "$here/zongji/node_modules/@vlasky/zongji" ]; then
  say "installing @vlasky/zongji"
  (cd "$here/zongji" && npm install --no-audit --no-fund --silent >/dev/null)
fi

schema="cap_bench_$(date +%s)"
say "building the workload in $schema"
sql_script <<SQL
CREATE DATABASE $schema;
USE $schema;
CREATE TABLE items (id INT PRIMARY KEY, qty INT NOT NULL, price DECIMAL(10,2) NOT NULL, name VARCHAR(40) NOT NULL,
                    updated DATETIME(3) NOT NULL, flag TINYINT NOT NULL, note VARCHAR(20) NULL);
INSERT INTO items SELECT seq, seq % 100, seq / 7, CONCAT('hot-', seq), NOW(3), 0, NULL FROM seq_1_to_10000;
INSERT INTO items SELECT 99990 + seq, 0, 0, 'pool', NOW(3), 0, NULL FROM seq_1_to_10;
DELIMITER //
CREATE PROCEDURE load_changes()
BEGIN
  DECLARE t INT DEFAULT 0;
  DECLARE k INT;
  WHILE t < 10000 DO
    START TRANSACTION;
    INSERT INTO items SELECT 100000 + t * 50 + seq, seq, seq * 1.25, CONCAT('row-', t, '-', seq), NOW(3), 1, IF(seq % 3 = 0, NULL, 'n')
      FROM seq_1_to_50;
    SET k = 0;
    WHILE k < 40 DO
      UPDATE items SET qty = qty + 1, updated = NOW(3) WHERE id = 1 + ((t * 40 + k) * 7919) % 10000;
      SET k = k + 1;
    END WHILE;
    DELETE FROM items WHERE id BETWEEN 100000 + (t - 1) * 50 + 41 AND 100000 + (t - 1) * 50 + 50;
    COMMIT;
    SET t = t + 1;
  END WHILE;
END//
DELIMITER ;
FLUSH BINARY LOGS;
SQL
read -r start_file start_pos _ < <(sql "SHOW MASTER STATUS")
load_start="$(now)"
sql "CALL $schema.load_changes(); FLUSH BINARY LOGS;"
load_end="$(now)"
read -r end_file end_pos _ < <(sql "SHOW MASTER STATUS")
files=()
while read -r name size; do
  n="${name##*.}"; s="${start_file##*.}"; e="${end_file##*.}"
  if ((10#$n >= 10#$s && 10#$n < 10#$e)); then files+=("$name"); fi
done < <(sql "SHOW BINARY LOGS")
rows=1000000
bytes=0
while read -r name size; do for f in "${files[@]}"; do [ "$f" = "$name" ] && bytes=$((bytes + size)); done; done < <(sql "SHOW BINARY LOGS")
say "workload: $rows row changes in 10000 transactions, written in $(printf '%.1f' "$(elapsed "$load_start" "$load_end")") s"
say "binlog range: $start_file:$start_pos .. $end_file:$end_pos (files ${files[*]}, $((bytes / 1048576)) MB)"

# Both .NET readers run with a 64 MB gen0 budget (DOTNET_GCgen0size, an environment-only GC
# setting: .NET 10 ignores it in runtimeconfig.json), as deploy/local runs nodes: the default
# budget on this machine's small cache collects gen0 about four times as often.
export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x4000000}"
# capture_bench <tree>: prints "seconds cpu_seconds" of the median of 5 timed reads by <tree>'s capture-bench.
capture_bench() {
  local out counted
  out="$(dotnet "$1/bench/capture/CaptureBench/bin/Release/net10.0/capture-bench.dll" --source "$cdc_cs" --from "$start_file:$start_pos" --to "$end_file:$end_pos" --schema "$schema" --server-id 3101 --repeat 5)"
  say "    $out"
  counted="$(sed -n 's/.*rows=\([0-9]*\) .*/\1/p' <<<"$out")"
  [ "$counted" = "$rows" ] || say "    warning: capture-bench counted $counted changes, not $rows"
  printf '%s %s\n' "$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$out")" "$(sed -n 's/.*cpu_seconds=\([0-9.]*\).*/\1/p' <<<"$out")"
}
say "(a) capture-bench (the median of 5 timed reads)"
read -r a_seconds a_cpu < <(capture_bench "$repo")
if [ -n "$baseline" ]; then
  say "(a) of the baseline $baseline_commit"
  read -r a0_seconds a0_cpu < <(capture_bench "$workdir/baseline")
fi

say "(b) mariadb-binlog"
t0="$(now)"
mariadb-binlog --read-from-remote-server --host="$cdc_host" --port="$cdc_port" --user="$cdc_user" --password="$cdc_password" \
  --base64-output=DECODE-ROWS -v "${files[@]}" >/dev/null
b_seconds="$(elapsed "$t0" "$(now)")"

say "(c) zongji"
c_out="$(node "$here/zongji/count.mjs" "$cdc_host" "$cdc_port" "$cdc_user" "$cdc_password" "$schema" "$start_file" "$end_file" "$end_pos" 3102 "$rows")"
say "    $c_out"
c_rows="$(sed -n 's/.*rows=\([0-9]*\) .*/\1/p' <<<"$c_out")"
c_seconds="$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$c_out")"
[ "$c_rows" = "$rows" ] || say "    warning: zongji counted $c_rows rows, not $rows"

say "(d) replicator tail --from-start --until-now"
t0="$(now)"
# The password goes through the environment: replicator refuses one on its command line (ps shows it).
REPLICATOR_SOURCE_PASSWORD="$cdc_password" dotnet "$repo/src/Replicator.Host/bin/Release/net10.0/replicator.dll" tail --source "$(sed -E 's/(^|;) *Password=[^;]*//I' <<<"$cdc_cs")" --tables "$schema.*" --from-start --until-now --server-id 3103 >/dev/null
d_seconds="$(elapsed "$t0" "$(now)")"
if [ -n "$baseline" ]; then
  say "(d) of the baseline $baseline_commit"
  t0="$(now)"
  REPLICATOR_SOURCE_PASSWORD="$cdc_password" dotnet "$workdir/baseline/src/Replicator.Host/bin/Release/net10.0/replicator.dll" tail --source "$(sed -E 's/(^|;) *Password=[^;]*//I' <<<"$cdc_cs")" --tables "$schema.*" --from-start --until-now --server-id 3103 >/dev/null
  d0_seconds="$(elapsed "$t0" "$(now)")"
fi

sql "DROP DATABASE $schema" >/dev/null

rate() { printf '%.0f' "$(echo "$rows / $1" | bc -l)"; }
ratio() { printf '%.2f' "$(echo "($rows / $1) / ($rows / $2)" | bc -l)"; }
printf '\n%-52s %10s %12s %16s %10s\n' "reader ($rows row changes, 10000 transactions)" "seconds" "rows/s" "x mariadb-binlog" "x zongji"
printf '%-52s %10.2f %12s %16s %10s\n' "(a) capture: BinlogClient + ChangeExtractor" "$a_seconds" "$(rate "$a_seconds")" "$(ratio "$a_seconds" "$b_seconds")" "$(ratio "$a_seconds" "$c_seconds")"
printf '%-52s %10.2f %12s %16s %10s\n' "(b) mariadb-binlog -R --base64-output=DECODE-ROWS -v" "$b_seconds" "$(rate "$b_seconds")" "1.00" "$(ratio "$b_seconds" "$c_seconds")"
printf '%-52s %10.2f %12s %16s %10s\n' "(c) @vlasky/zongji" "$c_seconds" "$(rate "$c_seconds")" "$(ratio "$c_seconds" "$b_seconds")" "1.00"
printf '%-52s %10.2f %12s %16s %10s\n' "(d) replicator tail --from-start --until-now" "$d_seconds" "$(rate "$d_seconds")" "$(ratio "$d_seconds" "$b_seconds")" "$(ratio "$d_seconds" "$c_seconds")"
if [ -n "$baseline" ]; then
  printf '%-52s %10.2f %12s %16s %10s\n' "(a) baseline $baseline_commit" "$a0_seconds" "$(rate "$a0_seconds")" "$(ratio "$a0_seconds" "$b_seconds")" "$(ratio "$a0_seconds" "$c_seconds")"
  printf '%-52s %10.2f %12s %16s %10s\n' "(d) baseline $baseline_commit" "$d0_seconds" "$(rate "$d0_seconds")" "$(ratio "$d0_seconds" "$b_seconds")" "$(ratio "$d0_seconds" "$c_seconds")"
  printf '\nthis tree / baseline %s: (a) %s x (CPU %s x), (d) %s x\n' "$baseline_commit" "$(ratio "$a_seconds" "$a0_seconds")" "$(ratio "$a_cpu" "$a0_cpu")" "$(ratio "$d_seconds" "$d0_seconds")"
fi
printf '\n(a) used %.2f CPU seconds in its (median) timed read: %s rows per CPU second.\n' "$a_cpu" "$(rate "$a_cpu")"
printf 'range %s:%s .. %s:%s; (d) reads every binlog on the server from the oldest.\n' "$start_file" "$start_pos" "$end_file" "$end_pos"
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
