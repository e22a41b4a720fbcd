#!/usr/bin/env bash
# Generates a Prisma client offline: points Prisma at the stub schema engine and skips engine downloads.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PRISMA_SCHEMA_ENGINE_BINARY="$root/scripts/prisma-engine-stub.sh"
export PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING=1
export PRISMA_HIDE_UPDATE_MESSAGE=1
exec prisma generate "$@"
