#!/usr/bin/env bash
# Provisions like start.sh (dependencies, Postgres, Redis, migrations), then typechecks every
# package and runs the whole test suite (the webapp's server test builds and boots the production
# server). Exits non-zero on any failure. Extra arguments go to `vitest run`.
set -euo pipefail
# shellcheck source=lib/provision.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/provision.sh"

provision
ensure_chromium
cd "$RUNPLANE_ROOT"

log "typecheck"
pnpm -r --if-present typecheck

log "tests"
report="$(mktemp -t runplane-vitest-XXXXXX.json)"
split_report="$(mktemp -t runplane-vitest-split-XXXXXX.json)"
trap 'rm -f "$report" "$split_report"' EXIT
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?

# Split-mode pass: the end-to-end webapp suites (API through the published SDK, realtime)
# again against servers with two databases minting NEW (ksuid) run ids. The engine and worker suites
# already run both modes in the pass above. Skipped when arguments narrowed the run.
if [ "$#" -eq 0 ]; then
  log "tests (split mode: control plane + run-ops databases)"
  RUNPLANE_TEST_SPLIT=1 pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$split_report" \
    --project @runplane/webapp apps/webapp/test/sdk apps/webapp/test/api apps/webapp/test/realtime || status=$?
fi

# One plain closing line with the counts of both passes, for readers of the CI log.
node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file) || fs.statSync(file).size === 0) continue;
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$report" "$split_report" 2>/dev/null || true
exit "$status"
