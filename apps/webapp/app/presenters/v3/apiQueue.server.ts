import type { ControlPlaneClient } from "@internal/database";
import type { RunQueue } from "@internal/run-engine";
import { ValidationError } from "@runplane/core";
import { QUEUE_ROW_SELECT, type QueueRef, type QueueRow } from "~/v3/queues/queueOperations.server";

/**
 * The queue views of the REST API in the published SDK's shapes (`queues.*`: QueueItem, V1 queues with
 * their own limit; `concurrencyLimits.*`: ConcurrencyLimitItem). A queue is also the concurrency limit
 * of the same name: its limit caps each concurrency key (`perKey`, a key may have its own override
 * for a while); `total` caps all its keys together (an operator's override; else the environment limit).
 */

export type Page<T> = { data: T[]; pagination: { currentPage: number; totalPages: number; count: number } };

type Live = { running: number; queued: number };

async function liveCounts(runQueue: RunQueue, environmentId: string, name: string): Promise<Live> {
  const [running, queued] = await Promise.all([
    runQueue.currentConcurrency({ environmentId, queue: name }),
    runQueue.lengthOfQueue(environmentId, name),
  ]);
  return { running, queued };
}

/** A task's own queue is named `task/<task id>` (the SDK's type "task", shown by task id). */
function isTaskQueue(row: QueueRow): boolean {
  return row.name.startsWith("task/");
}

export function queueItem(row: QueueRow, live: Live) {
  return {
    id: row.friendlyId,
    name: isTaskQueue(row) ? row.name.slice("task/".length) : row.name,
    type: isTaskQueue(row) ? ("task" as const) : ("custom" as const),
    running: live.running,
    queued: live.queued,
    paused: row.paused,
    concurrencyLimit: row.concurrencyLimit,
    version: "V1" as const,
    concurrency: {
      current: row.concurrencyLimit,
      base: row.concurrencyLimitOverriddenAt ? row.concurrencyLimitBase : row.concurrencyLimit,
      override: row.concurrencyLimitOverriddenAt ? row.concurrencyLimit : null,
      overriddenAt: row.concurrencyLimitOverriddenAt,
      overriddenBy: null,
    },
  };
}

export function concurrencyLimitItem(row: QueueRow, live: Live, envLimit: number) {
  const current = Math.min(row.concurrencyLimit ?? envLimit, envLimit);
  return {
    id: `climit_${row.friendlyId.replace(/^queue_/, "")}`,
    name: row.name,
    perKey: {
      current,
      base: row.concurrencyLimitOverriddenAt ? row.concurrencyLimitBase : row.concurrencyLimit,
      override: row.concurrencyLimitOverriddenAt ? row.concurrencyLimit : null,
      overriddenAt: row.concurrencyLimitOverriddenAt,
    },
    total: {
      current: Math.min(row.concurrencyLimitTotal ?? envLimit, envLimit),
      base: null,
      override: row.concurrencyLimitTotalOverriddenAt ? row.concurrencyLimitTotal : null,
      overriddenAt: row.concurrencyLimitTotalOverriddenAt,
    },
    running: live.running,
    queued: live.queued,
    paused: row.paused,
  };
}

/** The queue's limit for one key: `base` the queue's own per-key limit, `override` the key's while it lasts. */
export async function concurrencyLimitKeyItem(runQueue: RunQueue, environmentId: string, row: QueueRow, concurrencyKey: string) {
  const [envLimit, override, running] = await Promise.all([
    runQueue.envConcurrencyLimit(environmentId),
    runQueue.keyConcurrencyLimit(environmentId, row.name, concurrencyKey),
    runQueue.currentConcurrency({ environmentId, queue: row.name, concurrencyKey }),
  ]);
  const base = Math.min(row.concurrencyLimit ?? envLimit, envLimit);
  return {
    name: row.name,
    concurrencyKey,
    perKey: {
      current: override ? Math.min(override.limit, envLimit) : base,
      base,
      override: override?.limit ?? null,
      expiresAt: override?.expiresAt ?? null,
    },
    running,
    paused: row.paused,
  };
}

export async function presentQueue(runQueue: RunQueue, environmentId: string, row: QueueRow) {
  return queueItem(row, await liveCounts(runQueue, environmentId, row.name));
}

export async function presentConcurrencyLimit(runQueue: RunQueue, environmentId: string, row: QueueRow) {
  const [live, envLimit] = await Promise.all([liveCounts(runQueue, environmentId, row.name), runQueue.envConcurrencyLimit(environmentId)]);
  return concurrencyLimitItem(row, live, envLimit);
}

/** `page` (from 1) and `perPage` (1–100, default 25) from the query; anything else is a 400. */
export function parsePageQuery(url: URL): { page: number; perPage: number } {
  const read = (name: string, fallback: number, max: number) => {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new ValidationError(`${name} must be an integer from 1 to ${max}`);
    return n;
  };
  return { page: read("page", 1, 1_000_000), perPage: read("perPage", 25, 100) };
}

/** The environment's registered queues by name, one page, with live counts. */
export async function listQueueRows(
  prisma: ControlPlaneClient,
  environmentId: string,
  { page, perPage }: { page: number; perPage: number }
): Promise<{ rows: QueueRow[]; pagination: Page<unknown>["pagination"] }> {
  const where = { runtimeEnvironmentId: environmentId };
  const [count, rows] = await Promise.all([
    prisma.taskQueue.count({ where }),
    prisma.taskQueue.findMany({ where, select: QUEUE_ROW_SELECT, orderBy: { name: "asc" }, skip: (page - 1) * perPage, take: perPage }),
  ]);
  return { rows, pagination: { currentPage: page, totalPages: Math.max(1, Math.ceil(count / perPage)), count } };
}

/**
 * The queue a route names: `type` id | task | custom (default id). The SDK encodes a `/` in the name
 * as `%2F` before encoding the whole, so the decoded path parameter is decoded once more.
 */
export function queueRefFrom(param: string, type: unknown): QueueRef {
  let value = param;
  try {
    value = decodeURIComponent(param);
  } catch {
    throw new ValidationError("The queue in the path is not validly encoded");
  }
  const kind = type === undefined || type === null || type === "" ? "id" : type;
  if (kind !== "id" && kind !== "task" && kind !== "custom") throw new ValidationError('type must be "id", "task" or "custom"');
  if (!value) throw new ValidationError("queue is required");
  return { type: kind, value };
}
