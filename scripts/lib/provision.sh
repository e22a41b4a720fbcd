# shellcheck shell=bash
# Shared by start.sh and test.sh: toolchain, dependencies, Postgres, Redis, migrations.
# Source it, then call `provision`. Afterwards DATABASE_URL, RUN_OPS_DATABASE_URL, REDIS_URL,
# TEST_DATABASE_URL and TEST_REDIS_URL are exported and both databases are migrated.
#
# Postgres and Redis: the URLs are used as they are when something answers there. Otherwise, for a
# local host only, a server is started from the system's binaries with its data under .data/
# (Debian's postgresql / redis-server packages are installed with apt when missing and we are root).

RUNPLANE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNPLANE_DATA="${RUNPLANE_DATA:-$RUNPLANE_ROOT/.data}"
URL_TOOL="$RUNPLANE_ROOT/scripts/lib/url.mjs"

log() { printf '[runplane] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

is_root() { [ "$(id -u)" = "0" ]; }

apt_install() {
  is_root || die "$* is not installed and installing it needs root (apt-get install $*)"
  command -v apt-get >/dev/null || die "$* is not installed and apt-get is not available"
  if [ -z "${RUNPLANE_APT_UPDATED:-}" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    RUNPLANE_APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_node() {
  command -v node >/dev/null || die "Node.js 20.19+ is required (https://nodejs.org); it is not on PATH"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js 20.19+ is required; found $(node --version)"
}

ensure_pnpm() {
  if ! command -v pnpm >/dev/null; then
    log "installing pnpm 10 (npm i -g pnpm@10)"
    npm install -g pnpm@10 >/dev/null || die "could not install pnpm"
  fi
}

install_dependencies() {
  log "pnpm install"
  (cd "$RUNPLANE_ROOT" && { pnpm install --frozen-lockfile || pnpm install --no-frozen-lockfile; }) >&2 ||
    die "pnpm install failed"
}

url() { node "$URL_TOOL" "$@"; }

is_local_host() {
  case "$1" in 127.* | localhost | ::1 | "") return 0 ;; *) return 1 ;; esac
}

wait_reachable() { # url seconds
  local deadline=$((SECONDS + $2))
  until url reachable "$1" 1000; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

postgres_bindir() {
  if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

# Runs a command as the user that owns the local Postgres data (root may not run Postgres).
as_pg_user() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_local_postgres() { # database url
  local db_url="$1" port user bindir installed_now="" pgdata
  port="$(url get "$db_url" port)"
  user="$(url get "$db_url" user)"
  bindir="$(postgres_bindir || true)"
  if [ -z "$bindir" ]; then
    apt_install postgresql
    installed_now=1
    bindir="$(postgres_bindir)" || die "postgresql installed but pg_ctl was not found"
  fi
  if [ -n "$installed_now" ] && command -v pg_lsclusters >/dev/null; then
    # The package may have started its own cluster (password auth); stop the one it just made so
    # ours, with trust auth for local connections, can take the port.
    pg_lsclusters --no-header 2>/dev/null | while read -r version cluster cport status _; do
      if [ "$cport" = "$port" ] && [ "$status" = "online" ]; then
        log "stopping the cluster $version/$cluster the postgresql package just started on port $port"
        pg_ctlcluster "$version" "$cluster" stop || true
      fi
    done
  fi
  if is_root; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
  pgdata="$RUNPLANE_DATA/postgres"
  mkdir -p "$RUNPLANE_DATA"
  if is_root && ! runuser -u postgres -- test -x "$RUNPLANE_DATA"; then
    pgdata="/var/lib/runplane/postgres" # the postgres user cannot reach .data/ (e.g. a repo under /root)
  fi
  mkdir -p "$pgdata"
  chmod 700 "$pgdata"
  is_root && chown postgres "$pgdata"
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    log "initialising a Postgres cluster in $pgdata"
    as_pg_user "$bindir/initdb" -D "$pgdata" -U "$user" --auth=trust -E UTF8 --no-locale >/dev/null ||
      die "initdb failed"
  fi
  log "starting Postgres on 127.0.0.1:$port (log: $pgdata/server.log)"
  as_pg_user "$bindir/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 \
    -o "-p $port -k /tmp -c listen_addresses=localhost" start >/dev/null ||
    die "Postgres did not start; see $pgdata/server.log"
}

start_local_redis() { # redis url
  local redis_url="$1" port dir="$RUNPLANE_DATA/redis"
  port="$(url get "$redis_url" port)"
  if ! command -v redis-server >/dev/null; then
    apt_install redis-server
    # The package may have started a server on the default port already.
    if wait_reachable "$redis_url" 3; then return; fi
  fi
  mkdir -p "$dir"
  log "starting Redis on 127.0.0.1:$port (data: $dir)"
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --appendonly yes >/dev/null ||
    die "Redis did not start; see $dir/redis.log"
}

ensure_postgres() {
  if url reachable "$DATABASE_URL"; then
    log "Postgres answers at $(url get "$DATABASE_URL" host):$(url get "$DATABASE_URL" port)"
    return
  fi
  is_local_host "$(url get "$DATABASE_URL" host)" || die "DATABASE_URL points at a host that does not answer"
  start_local_postgres "$DATABASE_URL"
  wait_reachable "$DATABASE_URL" 30 || die "Postgres started but does not answer"
}

ensure_redis() {
  if url reachable "$REDIS_URL"; then
    log "Redis answers at $(url get "$REDIS_URL" host):$(url get "$REDIS_URL" port)"
    return
  fi
  is_local_host "$(url get "$REDIS_URL" host)" || die "REDIS_URL points at a host that does not answer"
  start_local_redis "$REDIS_URL"
  wait_reachable "$REDIS_URL" 30 || die "Redis started but does not answer"
}

migrate_databases() {
  log "migrating the control-plane database ($(url get "$DATABASE_URL" db))"
  (cd "$RUNPLANE_ROOT" && pnpm --silent --filter @internal/database migrate) >&2 || die "control-plane migration failed"
  log "migrating the run-ops database ($(url get "$RUN_OPS_DATABASE_URL" db))"
  (cd "$RUNPLANE_ROOT" && pnpm --silent --filter @internal/run-ops-database migrate) >&2 || die "run-ops migration failed"
}

# The browser tests drive Debian's Chromium through playwright-core (no browser download). Installed with
# apt when missing and we are root; otherwise a warning, and the browser tests fail under CI=true.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return
  if is_root && command -v apt-get >/dev/null; then
    apt_install chromium
  else
    log "warning: /usr/bin/chromium is missing (apt-get install chromium); browser tests will fail under CI=true and skip otherwise"
  fi
}

provision() {
  ensure_node
  ensure_pnpm
  install_dependencies

  export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/runplane}"
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
  # Migrated always, so the split can be turned on later without a separate step.
  export RUN_OPS_DATABASE_URL="${RUN_OPS_DATABASE_URL:-$(url with-db "$DATABASE_URL" runplane_run_ops)}"

  ensure_postgres
  ensure_redis
  migrate_databases

  # The test fixtures create throwaway databases on the same server and keys in the same Redis.
  export TEST_DATABASE_URL="${TEST_DATABASE_URL:-$(url with-db "$DATABASE_URL" postgres)}"
  export TEST_REDIS_URL="${TEST_REDIS_URL:-$REDIS_URL}"
}
