#!/usr/bin/env bash
# Provisions like start.sh (dependencies, Postgres, Redis, migrations), then typechecks every
# package and runs the whole test suite (the webapp's server test builds and boots the production
# server). Exits non-zero on any failure. Extra arguments go to `vitest run`.
set -euo pipefail
# shellcheck source=lib/provision.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/provision.sh"

provision
cd "$RUNPLANE_ROOT"

log "typecheck"
pnpm -r --if-present typecheck

log "tests"
report="$(mktemp -t runplane-vitest-XXXXXX.json)"
trap 'rm -f "$report"' EXIT
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line with the counts, for readers of the CI log.
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests ?? 0)} skipped`);
' "$report" 2>/dev/null || true
exit "$status"
