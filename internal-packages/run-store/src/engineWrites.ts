// Run-table reads and writes the run engine needs. Every function routes through the RunStore, so the
// engine never holds a Prisma client: runs, their snapshots, edges and run-owned waitpoints live in the
// database that owns the run id; standalone waitpoint tokens live in the legacy (control-plane) database.
import type {
  BatchTaskRun,
  RunOpsPrisma,
  TaskRun,
  TaskRunExecutionSnapshot,
  TaskRunWaitpoint,
  Waitpoint,
} from "@internal/run-ops-database";
import { locateWaitpoint, type WaitpointOwnerHint } from "./crossSeam.js";
import type { RunStore } from "./runStore.js";
import { insertRunStatement, transitionStatement } from "./sqlWrites.js";
import type { RunTablesClient } from "./types.js";

export type SnapshotWrite = {
  id: string;
  executionStatus: TaskRunExecutionSnapshot["executionStatus"];
  description: string;
  runStatus: TaskRun["status"];
  attemptNumber?: number | null;
  batchId?: string | null;
  previousSnapshotId?: string | null;
  completedWaitpointIds?: string[];
  workerId?: string | null;
  runnerId?: string | null;
  isValid?: boolean;
  error?: string | null;
  environmentId: string;
  environmentType: string;
  projectId: string;
  organizationId: string;
  createdAt: Date;
};

export type RunCreateData = Omit<
  RunOpsPrisma.TaskRunUncheckedCreateInput,
  "executionSnapshots" | "blockedByWaitpoints" | "associatedWaitpoint"
>;
export type WaitpointCreateData = Omit<RunOpsPrisma.WaitpointUncheckedCreateInput, "blockingTaskRuns">;
export type RunUpdateData = Omit<
  RunOpsPrisma.TaskRunUncheckedUpdateInput,
  "executionSnapshots" | "blockedByWaitpoints" | "associatedWaitpoint"
>;

/** True for a Postgres unique violation surfaced by Prisma, raw or not (optionally on a given column/constraint). */
export function isUniqueViolation(error: unknown, column?: string): boolean {
  if (!error || typeof error !== "object") return false;
  const e = error as { code?: string; meta?: Record<string, unknown>; message?: string };
  const text = JSON.stringify(e.meta ?? {}) + String(e.message ?? "");
  const unique = e.code === "P2002" || (e.code === "P2010" && /23505|unique constraint/i.test(text)) || /23505/.test(text);
  if (!unique) return false;
  return column ? text.includes(column) : true;
}

function snapshotRow(s: SnapshotWrite) {
  return {
    id: s.id,
    executionStatus: s.executionStatus,
    description: s.description,
    runStatus: s.runStatus,
    attemptNumber: s.attemptNumber ?? null,
    batchId: s.batchId ?? null,
    previousSnapshotId: s.previousSnapshotId ?? null,
    completedWaitpointIds: s.completedWaitpointIds ?? [],
    workerId: s.workerId ?? null,
    runnerId: s.runnerId ?? null,
    isValid: s.isValid ?? true,
    error: s.error ?? null,
    environmentId: s.environmentId,
    environmentType: s.environmentType,
    projectId: s.projectId,
    organizationId: s.organizationId,
    createdAt: s.createdAt,
  };
}

export function snapshotFromWrite(runId: string, s: SnapshotWrite): TaskRunExecutionSnapshot {
  return { ...snapshotRow(s), runId, updatedAt: s.createdAt };
}

// ---------------------------------------------------------------------------------------------------
// Runs and snapshots

/** One statement: the run, its first snapshot, and maybe its RUN waitpoint. */
export async function createRunWithSnapshot(
  store: RunStore,
  input: { run: RunCreateData; snapshot?: SnapshotWrite; associatedWaitpoint?: Omit<WaitpointCreateData, "completedByTaskRunId"> }
): Promise<TaskRun> {
  return insertRunStatement(store.clientFor(input.run.id), {
    run: input.run as Record<string, unknown>,
    snapshot: input.snapshot ? snapshotRow(input.snapshot) : undefined,
    waitpoint: input.associatedWaitpoint as Record<string, unknown> | undefined,
  });
}

export async function findRunById(store: RunStore, runId: string): Promise<TaskRun | null> {
  return store.clientFor(runId).taskRun.findUnique({ where: { id: runId } });
}

/** The newest valid snapshot: the run's execution truth. Ties are impossible (createdAt strictly increases). */
export async function findLatestSnapshot(store: RunStore, runId: string): Promise<TaskRunExecutionSnapshot | null> {
  return store.clientFor(runId).taskRunExecutionSnapshot.findFirst({
    where: { runId, isValid: true },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
}

/** The newest valid snapshots, newest first. */
export async function listRecentSnapshots(store: RunStore, runId: string, limit: number): Promise<TaskRunExecutionSnapshot[]> {
  return store.clientFor(runId).taskRunExecutionSnapshot.findMany({
    where: { runId, isValid: true },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit,
  });
}

export async function findSnapshot(store: RunStore, runId: string, snapshotId: string): Promise<TaskRunExecutionSnapshot | null> {
  return store.clientFor(runId).taskRunExecutionSnapshot.findFirst({ where: { id: snapshotId, runId } });
}

export async function listSnapshots(store: RunStore, runId: string): Promise<TaskRunExecutionSnapshot[]> {
  return store.clientFor(runId).taskRunExecutionSnapshot.findMany({
    where: { runId },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
}

/** Updates the run and appends a snapshot in one statement (the caller holds the run lock). */
export async function writeRunTransition(
  store: RunStore,
  runId: string,
  input: { run?: RunUpdateData; snapshot: SnapshotWrite }
): Promise<TaskRun> {
  return transitionStatement(store.clientFor(runId), runId, (input.run ?? {}) as Record<string, unknown>, snapshotRow(input.snapshot));
}

export async function updateRunRow(store: RunStore, runId: string, data: RunUpdateData): Promise<TaskRun> {
  return store.clientFor(runId).taskRun.update({ where: { id: runId }, data });
}

/** Children of a run that are still running and were triggered with resumeParentOnCompletion. */
export async function findWaitedChildren(store: RunStore, parentRunId: string, finalStatuses: readonly TaskRun["status"][]): Promise<string[]> {
  const rows = await Promise.all(
    store.allClients().map((client) =>
      client.taskRun.findMany({
        where: { parentTaskRunId: parentRunId, resumeParentOnCompletion: true, status: { notIn: [...finalStatuses] } },
        select: { id: true },
      })
    )
  );
  return [...new Set(rows.flat().map((r) => r.id))];
}

export async function findRunsByStatus(
  store: RunStore,
  where: { environmentId: string; status: TaskRun["status"]; taskIdentifiers?: string[] },
  limit = 500
): Promise<TaskRun[]> {
  const rows = await Promise.all(
    store.allClients().map((client) =>
      client.taskRun.findMany({
        where: {
          runtimeEnvironmentId: where.environmentId,
          status: where.status,
          ...(where.taskIdentifiers ? { taskIdentifier: { in: where.taskIdentifiers } } : {}),
        },
        orderBy: { createdAt: "asc" },
        take: limit,
      })
    )
  );
  return rows.flat();
}

/** Where a queue-repair scan stands: one id cursor per database (null once that database is exhausted). */
export type QueueRepairCursor = { afterIds: (string | null)[] };

/**
 * One page of the queue-repair sweep: ids of runs waiting to be queued since before `olderThan`
 * (PENDING created earlier, or DELAYED whose delay passed), `limit` per database in id order after
 * that database's cursor. `next` is null when every database is exhausted.
 */
export async function findQueueRepairCandidates(
  store: RunStore,
  input: { olderThan: Date; cursor?: QueueRepairCursor; limit: number; environmentId?: string }
): Promise<{ runIds: string[]; next: QueueRepairCursor | null }> {
  const clients = store.allClients();
  const pages = await Promise.all(
    clients.map(async (client, i) => {
      const afterId = input.cursor?.afterIds[i];
      if (afterId === null) return null;
      const rows = await client.taskRun.findMany({
        where: {
          ...(input.environmentId ? { runtimeEnvironmentId: input.environmentId } : {}),
          ...(afterId ? { id: { gt: afterId } } : {}),
          OR: [
            { status: "PENDING", createdAt: { lt: input.olderThan } },
            { status: "DELAYED", delayUntil: { lt: input.olderThan } },
          ],
        },
        select: { id: true },
        orderBy: { id: "asc" },
        take: input.limit,
      });
      return rows.map((r) => r.id);
    })
  );
  const afterIds = pages.map((ids) => (ids && ids.length === input.limit ? ids[ids.length - 1]! : null));
  const runIds = [...new Set(pages.flatMap((ids) => ids ?? []))];
  return { runIds, next: afterIds.some((id) => id !== null) ? { afterIds } : null };
}

// ---------------------------------------------------------------------------------------------------
// Idempotency

/** Clears a run's key so a new run may take it (expired, failed or explicitly reset). */
export async function clearRunIdempotencyKey(store: RunStore, runId: string): Promise<void> {
  await store.clientFor(runId).taskRun.updateMany({
    where: { id: runId },
    data: { idempotencyKey: null, idempotencyKeyExpiresAt: null },
  });
}

/** Clears a key on every run of the environment (optionally one task) in every database. */
export async function resetIdempotencyKey(
  store: RunStore,
  input: { environmentId: string; idempotencyKey: string; taskIdentifier?: string }
): Promise<number> {
  const counts = await Promise.all(
    store.allClients().map((client) =>
      client.taskRun.updateMany({
        where: {
          runtimeEnvironmentId: input.environmentId,
          idempotencyKey: input.idempotencyKey,
          ...(input.taskIdentifier ? { taskIdentifier: input.taskIdentifier } : {}),
        },
        data: { idempotencyKey: null, idempotencyKeyExpiresAt: null },
      })
    )
  );
  return counts.reduce((sum, c) => sum + c.count, 0);
}

// ---------------------------------------------------------------------------------------------------
// Waitpoints

/** Creates a waitpoint in the owner's database (no owner: the legacy database). */
export async function createWaitpointRow(store: RunStore, ownerId: string | null, data: WaitpointCreateData): Promise<Waitpoint> {
  const client = ownerId ? store.clientFor(ownerId) : store.router.client("LEGACY");
  return client.waitpoint.create({ data });
}

/** A waitpoint by (environment, idempotency key) in the owner's database. */
export async function findWaitpointByIdempotencyKey(
  store: RunStore,
  ownerId: string | null,
  environmentId: string,
  idempotencyKey: string
): Promise<Waitpoint | null> {
  const client = ownerId ? store.clientFor(ownerId) : store.router.client("LEGACY");
  return client.waitpoint.findUnique({ where: { environmentId_idempotencyKey: { environmentId, idempotencyKey } } });
}

/** Retires an expired idempotency key so a new waitpoint can take it. */
export async function rotateWaitpointIdempotencyKey(
  store: RunStore,
  ownerId: string | null,
  waitpointId: string,
  replacementKey: string
): Promise<void> {
  const client = ownerId ? store.clientFor(ownerId) : store.router.client("LEGACY");
  const row = await client.waitpoint.findUnique({ where: { id: waitpointId } });
  if (!row) return;
  await client.waitpoint.update({
    where: { id: waitpointId },
    data: { idempotencyKey: replacementKey, inactiveIdempotencyKey: row.idempotencyKey },
  });
}

/** Rows with this id in any database (one in practice; ids are unique across databases). */
export async function findWaitpointCopies(store: RunStore, waitpointId: string): Promise<{ client: RunTablesClient; row: Waitpoint }[]> {
  const found = await Promise.all(
    store.allClients().map(async (client) => ({ client, row: await client.waitpoint.findUnique({ where: { id: waitpointId } }) }))
  );
  return found.filter((f): f is { client: RunTablesClient; row: Waitpoint } => f.row !== null);
}

export async function findRunWaitpoint(store: RunStore, runId: string): Promise<Waitpoint | null> {
  return store.clientFor(runId).waitpoint.findUnique({ where: { completedByTaskRunId: runId } });
}

export async function findBatchWaitpoint(store: RunStore, batchId: string): Promise<Waitpoint | null> {
  return store.clientFor(batchId).waitpoint.findFirst({ where: { completedByBatchId: batchId, type: "BATCH" } });
}

export type WaitpointCompletion = {
  output?: string | null;
  outputType?: string;
  outputIsError: boolean;
  completedAt: Date;
};

/**
 * The database holding a waitpoint, or null, as the cross-seam guard decides it (crossSeam.ts): with a
 * hint its home database first; without one, both, refusing a waitpoint present in both.
 */
export async function findWaitpointWithClient(
  store: RunStore,
  waitpointId: string,
  hint?: WaitpointOwnerHint
): Promise<{ client: RunTablesClient; row: Waitpoint } | null> {
  const located = await locateWaitpoint(store, waitpointId, hint);
  return located ? { client: located.client, row: located.row } : null;
}

/**
 * Waitpoints by id wherever they live: the run's database first (run-owned waitpoints), then the
 * others for what is missing (a run may wait on a standalone token in the control-plane database).
 */
export async function findWaitpointsByIds(store: RunStore, ids: string[], nearRunId?: string): Promise<Waitpoint[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const first = nearRunId ? store.clientFor(nearRunId) : null;
  const order = first ? [first, ...store.allClients().filter((c) => c !== first)] : store.allClients();
  const found = new Map<string, Waitpoint>();
  for (const client of order) {
    const missing = unique.filter((id) => !found.has(id));
    if (missing.length === 0) break;
    const rows = await client.waitpoint.findMany({ where: { id: { in: missing } } });
    for (const row of rows) found.set(row.id, row);
  }
  return unique.map((id) => found.get(id)).filter((w): w is Waitpoint => w !== undefined);
}

/** Completes a waitpoint with a conditional PENDING→COMPLETED: the first writer wins. Null when it does not exist. */
export async function completeWaitpointRows(
  store: RunStore,
  waitpointId: string,
  completion: WaitpointCompletion,
  hint?: WaitpointOwnerHint
): Promise<{ won: boolean; waitpoint: Waitpoint } | null> {
  const home = await findWaitpointWithClient(store, waitpointId, hint);
  if (!home) return null;
  const result = await home.client.waitpoint.updateMany({
    where: { id: waitpointId, status: "PENDING" },
    data: {
      status: "COMPLETED",
      completedAt: completion.completedAt,
      output: completion.output ?? null,
      outputType: completion.outputType ?? "application/json",
      outputIsError: completion.outputIsError,
    },
  });
  const row = (await home.client.waitpoint.findUnique({ where: { id: waitpointId } })) ?? home.row;
  return { won: result.count > 0, waitpoint: row };
}

export type EdgeWrite = { id: string; waitpointId: string; projectId: string; batchId?: string | null; batchIndex?: number | null; spanIdToComplete?: string | null };

/** Inserts blocking edges; re-blocking on the same waitpoint is a no-op (ON CONFLICT DO NOTHING). */
export async function insertBlockingEdges(store: RunStore, runId: string, edges: EdgeWrite[]): Promise<void> {
  if (edges.length === 0) return;
  await store.clientFor(runId).taskRunWaitpoint.createMany({
    data: edges.map((e) => ({
      id: e.id,
      taskRunId: runId,
      waitpointId: e.waitpointId,
      projectId: e.projectId,
      batchId: e.batchId ?? null,
      batchIndex: e.batchIndex ?? null,
      spanIdToComplete: e.spanIdToComplete ?? null,
    })),
    skipDuplicates: true,
  });
}

/** A separate statement after the edge insert, so a concurrent completion is visible. */
export async function countPendingWaitpoints(store: RunStore, runId: string, waitpointIds: string[]): Promise<number> {
  const rows = await findWaitpointsByIds(store, waitpointIds, runId);
  return rows.filter((w) => w.status === "PENDING").length;
}

export type EdgeWithWaitpoint = TaskRunWaitpoint & { waitpoint: Waitpoint };

/** The run's blocking edges with their waitpoints (edges whose waitpoint vanished are left out). */
export async function listBlockingEdges(store: RunStore, runId: string): Promise<EdgeWithWaitpoint[]> {
  const edges = await store.clientFor(runId).taskRunWaitpoint.findMany({ where: { taskRunId: runId } });
  if (edges.length === 0) return [];
  const waitpoints = new Map((await findWaitpointsByIds(store, edges.map((e) => e.waitpointId), runId)).map((w) => [w.id, w]));
  return edges.flatMap((e) => {
    const waitpoint = waitpoints.get(e.waitpointId);
    return waitpoint ? [{ ...e, waitpoint }] : [];
  });
}

export async function deleteBlockingEdges(store: RunStore, runId: string, edgeIds?: string[]): Promise<void> {
  await store.clientFor(runId).taskRunWaitpoint.deleteMany({
    where: { taskRunId: runId, ...(edgeIds ? { id: { in: edgeIds } } : {}) },
  });
}

/** Runs blocked by a waitpoint, in any database (edges live beside their run). */
export async function findRunsBlockedBy(store: RunStore, waitpointId: string): Promise<string[]> {
  const rows = await Promise.all(
    store.allClients().map((client) => client.taskRunWaitpoint.findMany({ where: { waitpointId }, select: { taskRunId: true } }))
  );
  return [...new Set(rows.flat().map((r) => r.taskRunId))];
}

/** Pending waitpoints with a deadline at or before `now`, for a timeout sweep. */
export async function findDueWaitpoints(store: RunStore, now: Date, limit: number): Promise<Waitpoint[]> {
  const rows = await Promise.all(
    store.allClients().map((client) =>
      client.waitpoint.findMany({
        where: { status: "PENDING", completedAfter: { lte: now }, type: { in: ["DATETIME", "MANUAL"] } },
        take: limit,
        orderBy: { completedAfter: "asc" },
      })
    )
  );
  return rows.flat();
}

// ---------------------------------------------------------------------------------------------------
// Batches

export type BatchCreateData = Omit<RunOpsPrisma.BatchTaskRunUncheckedCreateInput, "errors">;

export async function createBatchRow(store: RunStore, data: BatchCreateData): Promise<BatchTaskRun> {
  return store.clientFor(data.id).batchTaskRun.create({ data });
}

export async function findBatchById(store: RunStore, batchId: string): Promise<BatchTaskRun | null> {
  for (const client of store.router.readOrder(batchId)) {
    const row = await client.batchTaskRun.findUnique({ where: { id: batchId } });
    if (row) return row;
  }
  return null;
}

export async function findBatchByIdempotencyKey(store: RunStore, environmentId: string, idempotencyKey: string): Promise<BatchTaskRun | null> {
  for (const client of store.allClients()) {
    const row = await client.batchTaskRun.findUnique({
      where: { runtimeEnvironmentId_idempotencyKey: { runtimeEnvironmentId: environmentId, idempotencyKey } },
    });
    if (row) return row;
  }
  return null;
}

/** Adds a run's friendly id to the batch (idempotent per run). */
export async function appendBatchRunId(store: RunStore, batchId: string, runFriendlyId: string): Promise<void> {
  const client = store.clientFor(batchId);
  await client.$executeRaw`UPDATE "BatchTaskRun" SET "runIds" = array_append("runIds", ${runFriendlyId}), "updatedAt" = now()
    WHERE id = ${batchId} AND NOT (${runFriendlyId} = ANY("runIds"))`;
}

/** Counts the batch's runs (in every database) and how many are final / failed. */
export async function countBatchRuns(
  store: RunStore,
  environmentId: string,
  batchId: string,
  finalStatuses: readonly TaskRun["status"][]
): Promise<{ total: number; final: number; succeeded: number }> {
  const parts = await Promise.all(
    store.allClients().map(async (client) => {
      const groups = await client.taskRun.groupBy({
        by: ["status"],
        where: { runtimeEnvironmentId: environmentId, batchId },
        _count: { _all: true },
      });
      return groups;
    })
  );
  let total = 0;
  let final = 0;
  let succeeded = 0;
  for (const g of parts.flat()) {
    const n = g._count._all;
    total += n;
    if (finalStatuses.includes(g.status)) final += n;
    if (g.status === "COMPLETED_SUCCESSFULLY") succeeded += n;
  }
  return { total, final, succeeded };
}

/**
 * Counts a batch's items that are runs of another batch or of none (an item's idempotency key returned
 * an existing run): among `runIds` (internal), those whose batchId is not this batch, in every database.
 */
export async function countForeignBatchItems(
  store: RunStore,
  batchId: string,
  runIds: string[],
  finalStatuses: readonly TaskRun["status"][]
): Promise<{ total: number; final: number; succeeded: number }> {
  if (runIds.length === 0) return { total: 0, final: 0, succeeded: 0 };
  const parts = await Promise.all(
    store.allClients().map((client) =>
      client.taskRun.findMany({
        where: { id: { in: runIds }, OR: [{ batchId: null }, { batchId: { not: batchId } }] },
        select: { id: true, status: true },
      })
    )
  );
  const byId = new Map(parts.flat().map((r) => [r.id, r.status]));
  let final = 0;
  let succeeded = 0;
  for (const status of byId.values()) {
    if (finalStatuses.includes(status)) final++;
    if (status === "COMPLETED_SUCCESSFULLY") succeeded++;
  }
  return { total: byId.size, final, succeeded };
}

/** Open batches of the environment that list the run (friendly id) among their items, in every database. */
export async function findOpenBatchesListingRun(store: RunStore, environmentId: string, runFriendlyId: string): Promise<string[]> {
  const rows = await Promise.all(
    store.allClients().map((client) =>
      client.batchTaskRun.findMany({
        where: { runtimeEnvironmentId: environmentId, status: { in: ["PENDING", "PROCESSING"] }, runIds: { has: runFriendlyId } },
        select: { id: true },
      })
    )
  );
  return [...new Set(rows.flat().map((r) => r.id))];
}

export async function countBatchErrors(store: RunStore, batchId: string): Promise<number> {
  return store.clientFor(batchId).batchTaskRunError.count({ where: { batchTaskRunId: batchId } });
}

export async function recordBatchItemError(
  store: RunStore,
  data: { id: string; batchTaskRunId: string; index: number; taskIdentifier: string; error: string; errorCode?: string; payload?: string }
): Promise<void> {
  await store.clientFor(data.batchTaskRunId).batchTaskRunError.createMany({ data: [data], skipDuplicates: true });
}

/** Records progress; the status change is conditional so exactly one caller completes the batch. */
export async function updateBatchProgress(
  store: RunStore,
  batchId: string,
  input: { completedCount: number; successfulRunCount: number; failedRunCount: number; complete?: { status: "COMPLETED" | "PARTIAL_FAILED"; completedAt: Date } }
): Promise<{ completedNow: boolean }> {
  const client = store.clientFor(batchId);
  if (input.complete) {
    const r = await client.batchTaskRun.updateMany({
      where: { id: batchId, status: { in: ["PENDING", "PROCESSING"] } },
      data: {
        status: input.complete.status,
        completedAt: input.complete.completedAt,
        completedCount: input.completedCount,
        successfulRunCount: input.successfulRunCount,
        failedRunCount: input.failedRunCount,
      },
    });
    return { completedNow: r.count > 0 };
  }
  await client.batchTaskRun.updateMany({
    where: { id: batchId, status: { in: ["PENDING", "PROCESSING"] }, completedCount: { lt: input.completedCount } },
    data: { completedCount: input.completedCount, successfulRunCount: input.successfulRunCount, failedRunCount: input.failedRunCount },
  });
  return { completedNow: false };
}

