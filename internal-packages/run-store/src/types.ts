import type { RunOpsClient } from "@internal/run-ops-database";

/**
 * A Prisma client over the run tables. Both databases carry the same run-table models
 * (runTables.prisma is shared), so the legacy control-plane client is used through this type too.
 */
export type RunTablesClient = RunOpsClient;
export type RunTablesTx = Parameters<Parameters<RunTablesClient["$transaction"]>[0]>[0];

export type { Residency } from "@runplane/core";
