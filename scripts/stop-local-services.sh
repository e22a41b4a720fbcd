#!/usr/bin/env bash
# Stops the Postgres and Redis that start.sh/test.sh started under .data/ (never any other server).
set -uo pipefail
# shellcheck source=lib/provision.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/provision.sh"

for pgdata in "$RUNPLANE_DATA/postgres" /var/lib/runplane/postgres; do
  if [ -f "$pgdata/postmaster.pid" ]; then
    bindir="$(postgres_bindir)"
    log "stopping Postgres ($pgdata)"
    as_pg_user "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null
  fi
done
pidfile="$RUNPLANE_DATA/redis/redis.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  log "stopping Redis (pid $(cat "$pidfile"))"
  kill "$(cat "$pidfile")"
fi
