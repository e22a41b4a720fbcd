// Run-table reads and writes the REST API needs beyond the engine's: paged run and token lists,
// tags, batch sealing, metadata compare-and-set, related runs. Every function routes through the
// RunStore, so the webapp never holds a run-table Prisma client.
import type { BatchTaskRun, BatchTaskRunError, RunOpsPrisma, TaskRun, Waitpoint } from "@internal/run-ops-database";
import { fromFriendlyId } from "@runplane/core";
import type { RunStore } from "./runStore.js";

/** A keyset position in a newest-first list. */
export type ListPosition = { createdAt: Date; id: string };

export type RunPageQuery = {
  /** One environment, or several (project-wide listing). */
  environmentIds: string[];
  where?: RunOpsPrisma.TaskRunWhereInput;
  limit: number;
  /** Older than this position (next page). */
  after?: ListPosition;
  /** Newer than this position (previous page). */
  before?: ListPosition;
};

function positionFilter(query: { after?: ListPosition; before?: ListPosition }) {
  if (query.after) {
    const { createdAt, id } = query.after;
    return { OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }] };
  }
  if (query.before) {
    const { createdAt, id } = query.before;
    return { OR: [{ createdAt: { gt: createdAt } }, { createdAt, id: { gt: id } }] };
  }
  return {};
}

function newestFirst(a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * Newest first across every database, keyset-paginated on (createdAt, id). Asks for `limit + 1` rows
 * so the caller knows whether another page exists in the direction it moves. With `before`, the rows
 * closest to the position are taken (oldest first) and returned newest first.
 */
export async function listRunPage(store: RunStore, query: RunPageQuery): Promise<{ rows: TaskRun[]; hasMore: boolean }> {
  const where: RunOpsPrisma.TaskRunWhereInput = {
    AND: [
      query.environmentIds.length === 1
        ? { runtimeEnvironmentId: query.environmentIds[0] }
        : { runtimeEnvironmentId: { in: query.environmentIds } },
      query.where ?? {},
      positionFilter(query),
    ],
  };
  const ascending = query.before !== undefined && query.after === undefined;
  const order = ascending ? "asc" : "desc";
  const pages = await Promise.all(
    store.allClients().map((client) =>
      client.taskRun.findMany({ where, orderBy: [{ createdAt: order }, { id: order }], take: query.limit + 1 })
    )
  );
  let rows = pages.flat().sort(newestFirst);
  if (ascending) rows = rows.reverse();
  const hasMore = rows.length > query.limit;
  rows = rows.slice(0, query.limit);
  if (ascending) rows.reverse();
  return { rows, hasMore };
}

/** Runs by friendly id, in any database, restricted to one environment. Order is not kept. */
export async function findRunsByFriendlyIds(store: RunStore, environmentId: string, friendlyIds: string[]): Promise<TaskRun[]> {
  if (friendlyIds.length === 0) return [];
  const ids = [...new Set(friendlyIds.map((id) => fromFriendlyId(id, "run")))];
  const pages = await Promise.all(
    store.allClients().map((client) => client.taskRun.findMany({ where: { id: { in: ids }, runtimeEnvironmentId: environmentId } }))
  );
  return pages.flat();
}

/** Runs by internal id (parents, roots), restricted to one environment. */
export async function findRunsByIds(store: RunStore, environmentId: string, ids: string[]): Promise<TaskRun[]> {
  if (ids.length === 0) return [];
  const pages = await Promise.all(
    store.allClients().map((client) => client.taskRun.findMany({ where: { id: { in: [...new Set(ids)] }, runtimeEnvironmentId: environmentId } }))
  );
  return pages.flat();
}

/** A run's children (oldest first, at most `limit`). Children live beside their parent's id family, but a replayed tree may span both. */
export async function listChildRuns(store: RunStore, environmentId: string, parentRunId: string, limit = 100): Promise<TaskRun[]> {
  const pages = await Promise.all(
    store.allClients().map((client) =>
      client.taskRun.findMany({
        where: { parentTaskRunId: parentRunId, runtimeEnvironmentId: environmentId },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        take: limit,
      })
    )
  );
  return pages
    .flat()
    .sort((a, b) => -newestFirst(a, b))
    .slice(0, limit);
}

/**
 * Adds tags to a run without exceeding `maxTags`, atomically against concurrent adds (compare-and-set
 * on the current tag list). Returns the new list, or `{ exceeded }` with the count the add would reach.
 */
export async function appendRunTags(
  store: RunStore,
  runId: string,
  tags: string[],
  maxTags: number
): Promise<{ ok: true; tags: string[] } | { ok: false; count: number } | null> {
  const client = store.clientFor(runId);
  for (let attempt = 0; attempt < 10; attempt++) {
    const run = await client.taskRun.findUnique({ where: { id: runId }, select: { runTags: true } });
    if (!run) return null;
    const next = [...new Set([...run.runTags, ...tags])];
    if (next.length === run.runTags.length) return { ok: true, tags: run.runTags };
    if (next.length > maxTags) return { ok: false, count: next.length };
    const updated = await client.taskRun.updateMany({ where: { id: runId, runTags: { equals: run.runTags } }, data: { runTags: next } });
    if (updated.count === 1) return { ok: true, tags: next };
  }
  throw new Error(`Could not add tags to run ${runId}: too many concurrent changes`);
}

/**
 * Writes a run's metadata if its version is still `expectedVersion` (optimistic locking). Used for
 * finished runs, which the engine no longer updates; returns the row, or null on a version conflict.
 */
export async function compareAndSetRunMetadata(
  store: RunStore,
  runId: string,
  input: { expectedVersion: number; metadata: string; metadataType: string }
): Promise<TaskRun | null> {
  const client = store.clientFor(runId);
  const updated = await client.taskRun.updateMany({
    where: { id: runId, metadataVersion: input.expectedVersion },
    data: { metadata: input.metadata, metadataType: input.metadataType, metadataVersion: { increment: 1 } },
  });
  if (updated.count === 0) return null;
  return client.taskRun.findUnique({ where: { id: runId } });
}

/** Seals a batch once every item is in: the ordered run list, `sealed`, and PENDING → PROCESSING. First caller wins. */
export async function sealBatch(store: RunStore, batchId: string, runFriendlyIds: string[]): Promise<boolean> {
  const client = store.clientFor(batchId);
  const now = new Date();
  const sealed = await client.batchTaskRun.updateMany({
    where: { id: batchId, sealed: false },
    data: { sealed: true, sealedAt: now, runIds: runFriendlyIds },
  });
  if (sealed.count === 0) return false;
  await client.batchTaskRun.updateMany({ where: { id: batchId, status: "PENDING" }, data: { status: "PROCESSING" } });
  return true;
}

export type BatchPageQuery = {
  environmentId: string;
  where?: RunOpsPrisma.BatchTaskRunWhereInput;
  limit: number;
  after?: ListPosition;
  before?: ListPosition;
};

/** Batches of an environment, newest first across every database, paged like {@link listRunPage}. */
export async function listBatchPage(store: RunStore, query: BatchPageQuery): Promise<{ rows: BatchTaskRun[]; hasMore: boolean }> {
  const where: RunOpsPrisma.BatchTaskRunWhereInput = {
    AND: [{ runtimeEnvironmentId: query.environmentId }, query.where ?? {}, positionFilter(query)],
  };
  const ascending = query.before !== undefined && query.after === undefined;
  const order = ascending ? "asc" : "desc";
  const pages = await Promise.all(
    store.allClients().map((client) =>
      client.batchTaskRun.findMany({ where, orderBy: [{ createdAt: order }, { id: order }], take: query.limit + 1 })
    )
  );
  let rows = pages.flat().sort(newestFirst);
  if (ascending) rows = rows.reverse();
  const hasMore = rows.length > query.limit;
  rows = rows.slice(0, query.limit);
  if (ascending) rows.reverse();
  return { rows, hasMore };
}

export async function listBatchErrors(store: RunStore, batchId: string): Promise<BatchTaskRunError[]> {
  return store.clientFor(batchId).batchTaskRunError.findMany({ where: { batchTaskRunId: batchId }, orderBy: { index: "asc" } });
}

export type { BatchTaskRun };

// ---------------------------------------------------------------------------------------------------
// Standalone waitpoint tokens (MANUAL waitpoints without an owner run live in the legacy database)

export type TokenPageQuery = {
  environmentId: string;
  /** Each entry is one status as stored: PENDING, or COMPLETED with or without an error output. */
  statuses?: { status: "PENDING" | "COMPLETED"; outputIsError?: boolean }[];
  idempotencyKey?: string;
  /** Tokens carrying every one of these tags. */
  tags?: string[];
  createdFrom?: Date;
  createdTo?: Date;
  limit: number;
  after?: ListPosition;
  before?: ListPosition;
};

export async function listWaitpointTokenPage(store: RunStore, query: TokenPageQuery): Promise<{ rows: Waitpoint[]; hasMore: boolean }> {
  const where: RunOpsPrisma.WaitpointWhereInput = {
    AND: [
      { environmentId: query.environmentId, type: "MANUAL" },
      query.statuses ? { OR: query.statuses.map((s) => (s.outputIsError === undefined ? { status: s.status } : s)) } : {},
      query.idempotencyKey !== undefined ? { idempotencyKey: query.idempotencyKey, userProvidedIdempotencyKey: true } : {},
      query.tags && query.tags.length > 0 ? { tags: { hasEvery: query.tags } } : {},
      query.createdFrom || query.createdTo
        ? { createdAt: { ...(query.createdFrom ? { gte: query.createdFrom } : {}), ...(query.createdTo ? { lte: query.createdTo } : {}) } }
        : {},
      positionFilter(query),
    ],
  };
  const ascending = query.before !== undefined && query.after === undefined;
  const order = ascending ? "asc" : "desc";
  let rows = await store.router.client("LEGACY").waitpoint.findMany({
    where,
    orderBy: [{ createdAt: order }, { id: order }],
    take: query.limit + 1,
  });
  const hasMore = rows.length > query.limit;
  rows = rows.slice(0, query.limit);
  if (ascending) rows.reverse();
  return { rows, hasMore };
}

/** Counts an environment's runs matching `where`, in every database. */
export async function countRuns(store: RunStore, environmentId: string, where: RunOpsPrisma.TaskRunWhereInput): Promise<number> {
  const counts = await Promise.all(
    store.allClients().map((client) => client.taskRun.count({ where: { AND: [{ runtimeEnvironmentId: environmentId }, where] } }))
  );
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * Records that a bulk action touched these runs (`filter[bulkAction]`), once per run, in whichever
 * database holds each. Ids are internal run ids. Returns the ids that now carry the action: a run not
 * written yet (still in the trigger buffer) is not among them.
 */
export async function addBulkActionToRuns(store: RunStore, runIds: string[], bulkActionId: string): Promise<string[]> {
  if (runIds.length === 0) return [];
  const marked: string[] = [];
  for (const client of store.allClients()) {
    await client.$executeRaw`
      UPDATE "TaskRun" SET "bulkActionGroupIds" = array_append("bulkActionGroupIds", ${bulkActionId})
      WHERE "id" = ANY(${runIds}::text[]) AND NOT (${bulkActionId} = ANY("bulkActionGroupIds"))`;
    const rows = await client.taskRun.findMany({ where: { id: { in: runIds }, bulkActionGroupIds: { has: bulkActionId } }, select: { id: true } });
    marked.push(...rows.map((row) => row.id));
  }
  return marked;
}
