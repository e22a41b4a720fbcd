#!/usr/bin/env sh
# Migrates both databases (the run-ops one is optional), then runs the webapp in the foreground.
set -eu
cd /app
pnpm --silent --filter @internal/database migrate
if [ -n "${RUN_OPS_DATABASE_URL:-}" ]; then
  pnpm --silent --filter @internal/run-ops-database migrate
fi
cd /app/apps/webapp
exec node --import tsx server.ts
