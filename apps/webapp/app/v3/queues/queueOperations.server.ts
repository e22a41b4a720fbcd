import type { ControlPlaneClient } from "@internal/database";
import type { ControlPlaneResolver } from "@internal/database/resolver";
import type { RunQueue } from "@internal/run-engine";
import { NotFoundError, ValidationError } from "@runplane/core";

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
  releaseConcurrencyOnWaitpoint: true,
  paused: true,
} as const;

export const MAX_QUEUE_LIMIT = 100_000;
export const MAX_ENV_LIMIT = 100_000;

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

  /** The queue's limit until `resetLimit`; the worker's declared limit is kept as the base. */
  async overrideLimit(environmentId: string, ref: QueueRef, limit: number): Promise<QueueRow> {
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_QUEUE_LIMIT) {
      throw new ValidationError(`concurrencyLimit must be an integer from 0 to ${MAX_QUEUE_LIMIT}`);
    }
    const queue = await this.find(environmentId, ref);
    const row = await this.prisma.taskQueue.update({
      where: { id: queue.id },
      data: {
        concurrencyLimit: limit,
        concurrencyLimitOverriddenAt: new Date(),
        // The first override keeps what the worker declared, so a reset can restore it.
        ...(queue.concurrencyLimitOverriddenAt ? {} : { concurrencyLimitBase: queue.concurrencyLimit }),
      },
      select: QUEUE_ROW_SELECT,
    });
    await this.runQueue.updateQueueConcurrencyLimit(environmentId, row.name, limit);
    return row;
  }

  async resetLimit(environmentId: string, ref: QueueRef): Promise<QueueRow> {
    const queue = await this.find(environmentId, ref);
    if (!queue.concurrencyLimitOverriddenAt) return queue;
    const row = await this.prisma.taskQueue.update({
      where: { id: queue.id },
      data: { concurrencyLimit: queue.concurrencyLimitBase, concurrencyLimitOverriddenAt: null },
      select: QUEUE_ROW_SELECT,
    });
    await this.runQueue.updateQueueConcurrencyLimit(environmentId, row.name, row.concurrencyLimit);
    return row;
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
