#!/usr/bin/env bash
# Runplane in one command: dependencies, Postgres, Redis, migrations, build, then the webapp on $PORT.
#   ./scripts/start.sh                       defaults: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/runplane,
#                                            REDIS_URL=redis://127.0.0.1:6379, PORT=3030
# Any variable of the env schema (README.md) can be set in the environment or in a .env file at the root.
set -euo pipefail
# shellcheck source=lib/provision.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/provision.sh"

if [ -f "$RUNPLANE_ROOT/.env" ]; then
  log "loading $RUNPLANE_ROOT/.env"
  set -a
  # shellcheck disable=SC1091
  source "$RUNPLANE_ROOT/.env"
  set +a
fi

provision

export NODE_ENV=production
export PORT="${PORT:-3030}"
# A secret generated once into the data folder unless the environment sets it: data_secret VAR FILE.
data_secret() {
  local var="$1" file="$RUNPLANE_DATA/$2"
  if [ -z "${!var:-}" ]; then
    if [ ! -s "$file" ]; then
      mkdir -p "$RUNPLANE_DATA"
      (umask 077 && node -e 'console.log(require("node:crypto").randomBytes(32).toString("hex"))' >"$file")
    fi
    printf -v "$var" '%s' "$(cat "$file")"
    export "${var?}"
  fi
}
data_secret SESSION_SECRET session-secret
# Encrypts environment variables at rest: losing this file makes stored variables unreadable.
data_secret ENCRYPTION_KEY encryption-key

# A personal access token for the trigger.dev CLI, kept across restarts; the banner prints it.
if [ -z "${BOOTSTRAP_ADMIN_PAT:-}" ]; then
  pat_file="$RUNPLANE_DATA/admin-pat"
  if [ ! -s "$pat_file" ]; then
    mkdir -p "$RUNPLANE_DATA"
    (umask 077 && node -e 'const a="0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";let s="tr_pat_";for(let i=0;i<40;i++)s+=a[require("node:crypto").randomInt(a.length)];console.log(s)' >"$pat_file")
  fi
  BOOTSTRAP_ADMIN_PAT="$(cat "$pat_file")"
  export BOOTSTRAP_ADMIN_PAT
fi

log "building the webapp"
(cd "$RUNPLANE_ROOT" && pnpm --silent --filter @runplane/webapp build) >&2 || die "webapp build failed"

log "starting the webapp on port $PORT"
cd "$RUNPLANE_ROOT/apps/webapp"
exec node --import tsx server.ts
