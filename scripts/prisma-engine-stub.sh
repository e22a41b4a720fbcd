#!/usr/bin/env sh
# Stand-in for Prisma's schema-engine binary, which cannot be downloaded on these machines.
# `prisma generate` only asks it for a version; migrations are applied by our own migrate command.
echo "schema-engine-cli 0.0.0-runplane-stub"
