#!/usr/bin/env bash
# Private MariaDB and Redis instances for development, the demo and the tests.
#
#   deploy/local/servers.sh start|stop|status|env
#
# They bind 127.0.0.1 only, on non-default ports, with their data under .local/ in the repo
# (git-ignored). MariaDB writes a row-based binlog with full row images and full metadata, which
# is what Replicator captures. `start` installs the Debian packages when they are missing and is a
# no-op when the servers already run; `stop` stops them by pid.
#
# Environment (all optional):
#   REPLICATOR_LOCAL_DIR       where data, sockets, pids and logs go   (default: <repo>/.local)
#   REPLICATOR_MARIADB_PORT    MariaDB port                            (default: 13306)
#   REPLICATOR_REDIS_PORT      Redis port                              (default: 16379)
#   REPLICATOR_CDC_PASSWORD    password of the capture user            (default: a fixed dev password)
#   REPLICATOR_ADMIN_PASSWORD  password of the admin user for tests    (default: a fixed dev password)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
local_dir="${REPLICATOR_LOCAL_DIR:-$repo/.local}"
mariadb_port="${REPLICATOR_MARIADB_PORT:-13306}"
redis_port="${REPLICATOR_REDIS_PORT:-16379}"
cdc_user="replicator_cdc"
cdc_password="${REPLICATOR_CDC_PASSWORD:-cdc-dev-password}"
admin_user="replicator_admin"
admin_password="${REPLICATOR_ADMIN_PASSWORD:-admin-dev-password}"

my_dir="$local_dir/mariadb"
my_sock="$my_dir/mariadb.sock"
my_pid="$my_dir/mariadb.pid"
redis_dir="$local_dir/redis"
redis_pid="$redis_dir/redis.pid"

log() { echo "servers: $*" >&2; }

need_install() {
  local missing=()
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  command -v mariadb-install-db >/dev/null 2>&1 || missing+=(mariadb-server)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "installing ${missing[*]} with apt-get"
    $sudo apt-get update -qq >/dev/null
    # The packaged services are not used: policy-rc.d may refuse to start them, which is fine.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

mariadbd_bin() { command -v mariadbd 2>/dev/null || echo /usr/sbin/mariadbd; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

mysql_root() { mariadb --no-defaults -uroot -S "$my_sock" "$@"; }

start_mariadb() {
  if alive "$my_pid"; then
    log "MariaDB already running on 127.0.0.1:$mariadb_port (pid $(cat "$my_pid"))"
    return
  fi
  mkdir -p "$my_dir/binlog"
  if [ ! -d "$my_dir/data/mysql" ]; then
    log "initialising MariaDB data in $my_dir/data"
    mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$my_dir/data" \
      --auth-root-authentication-method=socket --skip-test-db >"$my_dir/install.log" 2>&1
  fi
  # --no-defaults must come first: it keeps Debian's /etc/mysql settings (expire_logs_days, …) out.
  setsid "$(mariadbd_bin)" --no-defaults --user="$(id -un)" --datadir="$my_dir/data" \
    --socket="$my_sock" --port="$mariadb_port" --bind-address=127.0.0.1 --pid-file="$my_pid" \
    --log-error="$my_dir/error.log" --server-id=1 --log-bin="$my_dir/binlog/mariadb-bin" \
    --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
    --gtid-strict-mode=ON --sync-binlog=1 --innodb-flush-log-at-trx-commit=1 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --skip-name-resolve --max-connections=300 --innodb-buffer-pool-size=256M \
    --max-allowed-packet=64M </dev/null >/dev/null 2>&1 &
  for _ in $(seq 1 120); do
    if mysql_root -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  mysql_root -e 'SELECT 1' >/dev/null 2>&1 || { log "MariaDB did not start; see $my_dir/error.log"; tail -20 "$my_dir/error.log" >&2; exit 1; }
  mysql_root <<SQL
CREATE USER IF NOT EXISTS '$cdc_user'@'127.0.0.1' IDENTIFIED BY '$cdc_password';
CREATE USER IF NOT EXISTS '$cdc_user'@'localhost' IDENTIFIED BY '$cdc_password';
GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '$cdc_user'@'127.0.0.1';
GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '$cdc_user'@'localhost';
CREATE USER IF NOT EXISTS '$admin_user'@'127.0.0.1' IDENTIFIED BY '$admin_password';
CREATE USER IF NOT EXISTS '$admin_user'@'localhost' IDENTIFIED BY '$admin_password';
GRANT ALL PRIVILEGES ON *.* TO '$admin_user'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$admin_user'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  log "MariaDB started on 127.0.0.1:$mariadb_port (pid $(cat "$my_pid"))"
}

start_redis() {
  if alive "$redis_pid"; then
    log "Redis already running on 127.0.0.1:$redis_port (pid $(cat "$redis_pid"))"
    return
  fi
  mkdir -p "$redis_dir"
  redis-server --port "$redis_port" --bind 127.0.0.1 --protected-mode yes --daemonize yes \
    --pidfile "$redis_pid" --logfile "$redis_dir/redis.log" --dir "$redis_dir" \
    --save '' --appendonly no >/dev/null
  for _ in $(seq 1 50); do
    if redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 || { log "Redis did not start; see $redis_dir/redis.log"; exit 1; }
  log "Redis started on 127.0.0.1:$redis_port (pid $(cat "$redis_pid"))"
}

stop_pid() {
  local name="$1" pidfile="$2"
  if alive "$pidfile"; then
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    log "$name stopped (pid $pid)"
  else
    log "$name not running"
  fi
  rm -f "$pidfile"
}

print_env() {
  cat <<ENV
export REPLICATOR_MARIADB_CDC='Server=127.0.0.1;Port=$mariadb_port;User ID=$cdc_user;Password=$cdc_password'
export REPLICATOR_MARIADB_ADMIN='Server=127.0.0.1;Port=$mariadb_port;User ID=$admin_user;Password=$admin_password'
export REPLICATOR_MARIADB_SOCKET='$my_sock'
export REPLICATOR_MARIADB_PIDFILE='$my_pid'
export REPLICATOR_REDIS='127.0.0.1:$redis_port'
export REPLICATOR_REDIS_PIDFILE='$redis_pid'
ENV
}

case "${1:-}" in
  start)
    need_install
    start_mariadb
    start_redis
    echo "# connection strings (eval \"\$(deploy/local/servers.sh env)\" to export them)"
    print_env
    ;;
  stop)
    stop_pid Redis "$redis_pid"
    stop_pid MariaDB "$my_pid"
    ;;
  status)
    if alive "$my_pid"; then echo "mariadb running 127.0.0.1:$mariadb_port pid $(cat "$my_pid")"; else echo "mariadb stopped"; fi
    if alive "$redis_pid"; then echo "redis running 127.0.0.1:$redis_port pid $(cat "$redis_pid")"; else echo "redis stopped"; fi
    ;;
  env)
    print_env
    ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
