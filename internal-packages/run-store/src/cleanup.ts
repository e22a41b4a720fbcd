import type { Residency } from "@runplane/core";
import type { TaskRun } from "@internal/run-ops-database";
import type { RunStore } from "./runStore.js";
import type { RunTablesClient } from "./types.js";

/** Tables cleared, in the order they are cleared (children before the rows they point at). */
export const CLEANUP_TABLES = [
  "TaskRunWaitpoint",
  "TaskRunExecutionSnapshot",
  "Waitpoint",
  "BatchTaskRunError",
  "BatchTaskRun",
  "TaskRun",
] as const;
export type CleanupTable = (typeof CLEANUP_TABLES)[number];
export type CleanupCounts = Record<CleanupTable, number>;

export type EnvironmentCleanupOptions = {
  environmentIds: string[];
  /** Rows per statement, so no delete holds locks on an unbounded set. Default 1,000. */
  chunkSize?: number;
  /** Told the count of every table of every database once it is cleared. */
  log?: (message: string, fields: Record<string, unknown>) => void;
};

export type EnvironmentCleanupResult = {
  /** One entry per physical database (one when split is off). */
  byDatabase: Partial<Record<Residency, CleanupCounts>>;
  total: CleanupCounts;
};

const DEFAULT_CHUNK_SIZE = 1_000;

const zeroCounts = (): CleanupCounts =>
  Object.fromEntries(CLEANUP_TABLES.map((table) => [table, 0])) as CleanupCounts;

/**
 * Deletes every run-table row of the given environments from every database the store routes to.
 * Each statement touches at most `chunkSize` rows and there is no wrapping transaction: an interrupted
 * cleanup is finished by calling it again, and a call with nothing left to delete deletes nothing.
 */
export async function deleteEnvironmentRunData(
  store: RunStore,
  options: EnvironmentCleanupOptions
): Promise<EnvironmentCleanupResult> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  const environmentIds = [...new Set(options.environmentIds)];
  const result: EnvironmentCleanupResult = { byDatabase: {}, total: zeroCounts() };
  if (environmentIds.length === 0) return result;

  for (const [residency, client] of databasesOf(store)) {
    const counts = await clearDatabase(client, environmentIds, chunkSize, (table, deleted) =>
      options.log?.("run data cleanup: table cleared", { database: residency, table, deleted, environmentIds })
    );
    result.byDatabase[residency] = counts;
    for (const table of CLEANUP_TABLES) result.total[table] += counts[table];
  }
  return result;
}

/** Each physical database once, labelled by the residency it holds. */
function databasesOf(store: RunStore): [Residency, RunTablesClient][] {
  const legacy = store.router.client("LEGACY");
  const runOps = store.router.client("NEW");
  return runOps === legacy ? [["LEGACY", legacy]] : [["NEW", runOps], ["LEGACY", legacy]];
}

async function clearDatabase(
  db: RunTablesClient,
  environmentIds: string[],
  chunkSize: number,
  cleared: (table: CleanupTable, deleted: number) => void
): Promise<CleanupCounts> {
  const counts = zeroCounts();
  const record = (table: CleanupTable, deleted: number) => {
    counts[table] = deleted;
    cleared(table, deleted);
  };
  const inEnvironments = { in: environmentIds };
  const after = (cursor: string | undefined) => (cursor ? { id: { gt: cursor } } : {});
  const byId = { id: "asc" } as const;
  const select = { id: true } as const;

  const runIds = () =>
    keysetIdChunks(chunkSize, (cursor, take) =>
      db.taskRun.findMany({ where: { runtimeEnvironmentId: inEnvironments, ...after(cursor) }, select, orderBy: byId, take })
    );
  const waitpointIds = () =>
    keysetIdChunks(chunkSize, (cursor, take) =>
      db.waitpoint.findMany({ where: { environmentId: inEnvironments, ...after(cursor) }, select, orderBy: byId, take })
    );
  const batchIds = () =>
    keysetIdChunks(chunkSize, (cursor, take) =>
      db.batchTaskRun.findMany({ where: { runtimeEnvironmentId: inEnvironments, ...after(cursor) }, select, orderBy: byId, take })
    );
  const deleteEdges = (where: { taskRunId: { in: string[] } } | { waitpointId: { in: string[] } }) =>
    deleteAllInChunks(chunkSize, {
      select: (take) => db.taskRunWaitpoint.findMany({ where, select, take }),
      remove: (ids) => db.taskRunWaitpoint.deleteMany({ where: { id: { in: ids } } }),
    });

  // Edges hang off the environment's runs and off its waitpoints (a run elsewhere may wait on one).
  let edges = 0;
  for await (const ids of runIds()) edges += await deleteEdges({ taskRunId: { in: ids } });
  for await (const ids of waitpointIds()) edges += await deleteEdges({ waitpointId: { in: ids } });
  record("TaskRunWaitpoint", edges);

  // Snapshots are found through their run (indexed), not their environment column (not indexed).
  let snapshots = 0;
  for await (const runIdChunk of runIds()) {
    snapshots += await deleteAllInChunks(chunkSize, {
      select: (take) => db.taskRunExecutionSnapshot.findMany({ where: { runId: { in: runIdChunk } }, select, take }),
      remove: (ids) => db.taskRunExecutionSnapshot.deleteMany({ where: { id: { in: ids } } }),
    });
  }
  record("TaskRunExecutionSnapshot", snapshots);

  record(
    "Waitpoint",
    await deleteAllInChunks(chunkSize, {
      select: (take) => db.waitpoint.findMany({ where: { environmentId: inEnvironments }, select, take }),
      remove: (ids) => db.waitpoint.deleteMany({ where: { id: { in: ids } } }),
    })
  );

  let batchErrors = 0;
  for await (const batchIdChunk of batchIds()) {
    batchErrors += await deleteAllInChunks(chunkSize, {
      select: (take) => db.batchTaskRunError.findMany({ where: { batchTaskRunId: { in: batchIdChunk } }, select, take }),
      remove: (ids) => db.batchTaskRunError.deleteMany({ where: { id: { in: ids } } }),
    });
  }
  record("BatchTaskRunError", batchErrors);

  record(
    "BatchTaskRun",
    await deleteAllInChunks(chunkSize, {
      select: (take) => db.batchTaskRun.findMany({ where: { runtimeEnvironmentId: inEnvironments }, select, take }),
      remove: (ids) => db.batchTaskRun.deleteMany({ where: { id: { in: ids } } }),
    })
  );

  record(
    "TaskRun",
    await deleteAllInChunks(chunkSize, {
      select: (take) => db.taskRun.findMany({ where: { runtimeEnvironmentId: inEnvironments }, select, take }),
      remove: (ids) => db.taskRun.deleteMany({ where: { id: { in: ids } } }),
    })
  );

  return counts;
}

/** Pages of ids in ascending order, for walking rows that this walk does not delete. */
async function* keysetIdChunks(
  chunkSize: number,
  page: (cursor: string | undefined, take: number) => Promise<{ id: string }[]>
): AsyncGenerator<string[]> {
  let cursor: string | undefined;
  for (;;) {
    const rows = await page(cursor, chunkSize);
    if (rows.length === 0) return;
    yield rows.map((row) => row.id);
    if (rows.length < chunkSize) return;
    cursor = rows[rows.length - 1].id;
  }
}

/** Repeats "select up to chunkSize matching ids, delete them" until none match. Returns rows deleted. */
async function deleteAllInChunks(
  chunkSize: number,
  step: { select: (take: number) => Promise<{ id: string }[]>; remove: (ids: string[]) => Promise<{ count: number }> }
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const rows = await step.select(chunkSize);
    if (rows.length === 0) return deleted;
    deleted += (await step.remove(rows.map((row) => row.id))).count;
    if (rows.length < chunkSize) return deleted;
  }
}

export type UnfinishedRun = { id: string; runtimeEnvironmentId: string; queue: string; concurrencyKey: string | null };

/**
 * The environments' runs that are not final, in every database, in id-ordered pages: what may still
 * hold run-queue state (a queued message, a concurrency slot) to clear before the rows go.
 */
export async function* unfinishedRunsOf(
  store: RunStore,
  options: { environmentIds: string[]; finalStatuses: readonly TaskRun["status"][]; chunkSize?: number }
): AsyncGenerator<UnfinishedRun[]> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const environmentIds = [...new Set(options.environmentIds)];
  if (environmentIds.length === 0) return;
  for (const [, client] of databasesOf(store)) {
    let cursor: string | undefined;
    for (;;) {
      const rows = await client.taskRun.findMany({
        where: {
          runtimeEnvironmentId: { in: environmentIds },
          status: { notIn: [...options.finalStatuses] },
          ...(cursor ? { id: { gt: cursor } } : {}),
        },
        select: { id: true, runtimeEnvironmentId: true, queue: true, concurrencyKey: true },
        orderBy: { id: "asc" },
        take: chunkSize,
      });
      if (rows.length === 0) break;
      yield rows;
      if (rows.length < chunkSize) break;
      cursor = rows[rows.length - 1].id;
    }
  }
}
