import type { ControlPlaneClient } from "@internal/database";
import type { ControlPlaneResolver } from "@internal/database/resolver";
import type { RunQueue } from "@internal/run-engine";
import { NotFoundError, ValidationError } from "@runplane/core";
import { parseDurationMs } from "@runplane/core/schemas";

/** How a caller names a queue: its friendly id, a task id (queue `task/<id>`) or a custom queue's name. */
export type QueueRef = { type: "id" | "task" | "custom"; value: string };

export type QueueRow = {
  id: string;
  friendlyId: string;
  name: string;
  type: "VIRTUAL" | "NAMED";
  concurrencyLimit: number | null;
  concurrencyLimitBase: number | null;
  concurrencyLimitOverriddenAt: Date | null;
  concurrencyLimitTotal: number | null;
  concurrencyLimitTotalOverriddenAt: Date | null;
  releaseConcurrencyOnWaitpoint: boolean;
  paused: boolean;
};

export const QUEUE_ROW_SELECT = {
  id: true,
  friendlyId: true,
  name: true,
  type: true,
  concurrencyLimit: true,
  concurrencyLimitBase: true,
  concurrencyLimitOverriddenAt: true,
  concurrencyLimitTotal: true,
  concurrencyLimitTotalOverriddenAt: true,
  releaseConcurrencyOnWaitpoint: true,
  paused: true,
} as const;

export const MAX_QUEUE_LIMIT = 100_000;
export const MAX_ENV_LIMIT = 100_000;
export const DEFAULT_KEY_OVERRIDE_TTL_MS = 7 * 86_400_000;
export const MAX_KEY_OVERRIDE_TTL_MS = 30 * 86_400_000;

/** Which of a queue's limits an override changes: `perKey` caps each concurrency key, `total` all keys at once. */
export type LimitOverride = { perKey?: number; total?: number };

function checkLimit(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_QUEUE_LIMIT) {
    throw new ValidationError(`${name} must be an integer from 0 to ${MAX_QUEUE_LIMIT}`);
  }
}

/** A key override's `ttl`: a duration string (`"2h"`) or whole seconds; default 7 days, at most 30. */
export function keyOverrideTtlMs(ttl: string | number | undefined): number {
  if (ttl === undefined) return DEFAULT_KEY_OVERRIDE_TTL_MS;
  const ms = typeof ttl === "number" ? (Number.isInteger(ttl) && ttl > 0 ? ttl * 1000 : undefined) : parseDurationMs(ttl);
  if (ms === undefined || ms <= 0 || ms > MAX_KEY_OVERRIDE_TTL_MS) {
    throw new ValidationError('ttl must be a duration such as "2h" or a positive number of seconds, at most 30 days');
  }
  return ms;
}

/**
 * Operating queues and limits: pause/resume, limit override/reset, the environment's limit. The
 * TaskQueue / RuntimeEnvironment row is the record; the run queue (Redis) is what dequeue obeys, so
 * every change writes both, database first (a worker registering re-pushes the database's values).
 */
export class QueueOperations {
  constructor(
    private readonly prisma: ControlPlaneClient,
    private readonly runQueue: RunQueue,
    private readonly resolver: Pick<ControlPlaneResolver, "invalidateEnv">
  ) {}

  async find(environmentId: string, ref: QueueRef): Promise<QueueRow> {
    const where =
      ref.type === "id"
        ? { runtimeEnvironmentId: environmentId, friendlyId: ref.value }
        : { runtimeEnvironmentId: environmentId, name: ref.type === "task" ? `task/${ref.value}` : ref.value };
    const row = await this.prisma.taskQueue.findFirst({ where, select: QUEUE_ROW_SELECT });
    if (!row) throw new NotFoundError(`Queue not found: ${ref.type === "id" ? ref.value : `${ref.type} "${ref.value}"`}`);
    return row;
  }

  /** A paused queue still accepts triggers; dequeue hands none of its runs out until it resumes. */
  async setPaused(environmentId: string, ref: QueueRef, paused: boolean): Promise<QueueRow> {
    const queue = await this.find(environmentId, ref);
    const row = await this.prisma.taskQueue.update({ where: { id: queue.id }, data: { paused }, select: QUEUE_ROW_SELECT });
    if (paused) await this.runQueue.pauseQueue(environmentId, row.name);
    else await this.runQueue.resumeQueue(environmentId, row.name);
    return row;
  }

  /**
   * Overrides the queue's limit per key (`perKey`, the worker's declared value kept as the base) and/or
   * its `total` across keys, until `resetLimit`.
   */
  async overrideLimit(environmentId: string, ref: QueueRef, override: LimitOverride): Promise<QueueRow> {
    if (override.perKey === undefined && override.total === undefined) throw new ValidationError("Provide perKey or total");
    if (override.perKey !== undefined) checkLimit("The concurrency limit (perKey)", override.perKey);
    if (override.total !== undefined) checkLimit("total", override.total);
    const queue = await this.find(environmentId, ref);
    const now = new Date();
    const row = await this.prisma.taskQueue.update({
      where: { id: queue.id },
      data: {
        ...(override.perKey === undefined
          ? {}
          : {
              concurrencyLimit: override.perKey,
              concurrencyLimitOverriddenAt: now,
              // The first override keeps what the worker declared, so a reset can restore it.
              ...(queue.concurrencyLimitOverriddenAt ? {} : { concurrencyLimitBase: queue.concurrencyLimit }),
            }),
        ...(override.total === undefined ? {} : { concurrencyLimitTotal: override.total, concurrencyLimitTotalOverriddenAt: now }),
      },
      select: QUEUE_ROW_SELECT,
    });
    if (override.perKey !== undefined) await this.runQueue.updateQueueConcurrencyLimit(environmentId, row.name, row.concurrencyLimit);
    if (override.total !== undefined) await this.runQueue.updateQueueTotalLimit(environmentId, row.name, row.concurrencyLimitTotal);
    return row;
  }

  /** Back to the declared limits: the worker's per-key limit, and no total (workers declare none). */
  async resetLimit(environmentId: string, ref: QueueRef): Promise<QueueRow> {
    const queue = await this.find(environmentId, ref);
    if (!queue.concurrencyLimitOverriddenAt && !queue.concurrencyLimitTotalOverriddenAt) return queue;
    const row = await this.prisma.taskQueue.update({
      where: { id: queue.id },
      data: {
        ...(queue.concurrencyLimitOverriddenAt ? { concurrencyLimit: queue.concurrencyLimitBase, concurrencyLimitOverriddenAt: null } : {}),
        concurrencyLimitTotal: null,
        concurrencyLimitTotalOverriddenAt: null,
      },
      select: QUEUE_ROW_SELECT,
    });
    await this.runQueue.updateQueueConcurrencyLimit(environmentId, row.name, row.concurrencyLimit);
    await this.runQueue.updateQueueTotalLimit(environmentId, row.name, null);
    return row;
  }

  /**
   * One concurrency key's own limit instead of the queue's, for `ttlMs`. It lives only in the run
   * queue (a Redis key that expires by itself), so it lapses with no sweep and no database write.
   */
  async overrideKeyLimit(environmentId: string, ref: QueueRef, concurrencyKey: string, perKey: number, ttlMs: number): Promise<QueueRow> {
    checkLimit("perKey", perKey);
    const queue = await this.find(environmentId, ref);
    await this.runQueue.overrideKeyConcurrencyLimit(environmentId, queue.name, concurrencyKey, perKey, ttlMs);
    return queue;
  }

  async resetKeyLimit(environmentId: string, ref: QueueRef, concurrencyKey: string): Promise<QueueRow> {
    const queue = await this.find(environmentId, ref);
    await this.runQueue.resetKeyConcurrencyLimit(environmentId, queue.name, concurrencyKey);
    return queue;
  }

  /** The environment's limit (RuntimeEnvironment.maximumConcurrencyLimit), enforced at once. */
  async setEnvironmentLimit(environmentId: string, limit: number): Promise<number> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ENV_LIMIT) {
      throw new ValidationError(`The environment limit must be an integer from 1 to ${MAX_ENV_LIMIT}`);
    }
    await this.prisma.runtimeEnvironment.update({ where: { id: environmentId }, data: { maximumConcurrencyLimit: limit } });
    this.resolver.invalidateEnv(environmentId);
    await this.runQueue.updateEnvConcurrencyLimit(environmentId, limit);
    return limit;
  }
}
