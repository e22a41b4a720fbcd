import { createRunOpsClient } from "@internal/run-ops-database";
import { LegacyRunTablesClient } from "@internal/database/runTables";
import { PrismaPg } from "@prisma/adapter-pg";
import { RunStore } from "./runStore.js";
import type { RunStoreDatabases } from "./routing.js";
import type { RunTablesClient } from "./types.js";

export type RunStoreUrls = {
  databaseUrl: string;
  runOpsDatabaseUrl?: string;
  splitEnabled: boolean;
  poolSize?: number;
  /** See RunStoreDatabases.onNewIdWhileSplitOff. */
  onNewIdWhileSplitOff?: RunStoreDatabases["onNewIdWhileSplitOff"];
  log?: RunStoreDatabases["log"];
};

/** Builds a run store with its own pools. `close()` releases them. */
export function createRunStoreFromUrls(urls: RunStoreUrls): { store: RunStore; close: () => Promise<void> } {
  const legacy = new LegacyRunTablesClient({
    adapter: new PrismaPg({ connectionString: urls.databaseUrl, max: urls.poolSize ?? 10 }),
  }) as unknown as RunTablesClient;
  const runOps =
    urls.splitEnabled && urls.runOpsDatabaseUrl
      ? createRunOpsClient({ connectionString: urls.runOpsDatabaseUrl, max: urls.poolSize ?? 10 })
      : undefined;
  const store = new RunStore({
    legacy,
    runOps,
    splitEnabled: urls.splitEnabled,
    onNewIdWhileSplitOff: urls.onNewIdWhileSplitOff,
    log: urls.log,
  });
  return {
    store,
    close: async () => {
      await Promise.all([legacy.$disconnect(), runOps?.$disconnect()]);
    },
  };
}
