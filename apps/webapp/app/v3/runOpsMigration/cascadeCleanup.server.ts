import type { ControlPlaneClient } from "@internal/database";
import type { ControlPlaneResolver } from "@internal/database/resolver";
import { FINAL_RUN_STATUSES, type RunQueue } from "@internal/run-engine";
import {
  deleteEnvironmentRunData,
  unfinishedRunsOf,
  CLEANUP_TABLES,
  type CleanupCounts,
  type EnvironmentCleanupResult,
  type RunStore,
} from "@internal/run-store";
import type { Residency } from "@runplane/core";
import type { Redis } from "ioredis";
import type { Logger } from "~/services/logger.server";
import type { Runtime } from "~/services/runtime.server";

/**
 * Hard deletion of an environment or a project with everything it owns, in both databases.
 *
 * The run tables carry no foreign key to the control plane (they may live in another database), so
 * deleting an environment row cascades nothing into them: this service does it, in an order that
 * never leaves a run whose environment is gone while its deletion is still pending:
 *
 *   1. fence: the environments are paused (run queue and row) and archived, caches invalidated;
 *   2. run-queue state of every unfinished run is acknowledged (messages and concurrency slots);
 *   3. run data, both databases, children before parents (deleteEnvironmentRunData; counts logged);
 *   4. the control-plane rows (environment or project; workers and queues cascade);
 *   5. caches: resolver (environment + workers), the engine's worker memo;
 *   6. a last sweep of 2–3 for rows a process with a stale cache wrote meanwhile;
 *   7. the environments' run-queue keys (limits, pause flags, indexes).
 *
 * No wrapping transaction (two databases): an interrupted call is finished by calling it again, and
 * a call with nothing left deletes nothing.
 */
export type CascadeCleanupDeps = {
  prisma: ControlPlaneClient;
  runStore: RunStore;
  resolver: Pick<ControlPlaneResolver, "invalidateEnv" | "invalidateWorkers">;
  engine?: { runQueue: Pick<RunQueue, "acknowledgeMessage" | "pauseEnvironment" | "keys">; invalidateWorkers(environmentId: string): void };
  /** A connection addressing the same keys as the engine's run queue; without it step 7 is skipped. */
  redis?: Pick<Redis, "del" | "zrem">;
  logger: Logger;
  /** Offloaded payloads and outputs of the environments (either object store); without it they stay. */
  packets?: { deleteEnvironments(environmentIds: string[]): Promise<number> };
  /** Rows per statement in the run-data deletes. Default 1,000. */
  chunkSize?: number;
};

export type CascadeCleanupResult = {
  target: { kind: "environment" | "project"; id: string };
  environmentIds: string[];
  /** Rows deleted per run table, per database (both passes). */
  runData: { byDatabase: Partial<Record<Residency, CleanupCounts>>; total: CleanupCounts };
  /** Run-queue messages acknowledged (queued or in flight). */
  queueMessagesAcknowledged: number;
  queueKeysDeleted: number;
  /** Packet objects deleted (chunks in Postgres, objects in S3), both passes. */
  packetsDeleted: number;
  controlPlane: { projects: number; environments: number };
};

/** The dependencies as the booted webapp has them. */
export function cascadeCleanupDeps(runtime: Runtime): CascadeCleanupDeps {
  return {
    prisma: runtime.prisma,
    runStore: runtime.runStore,
    resolver: runtime.resolver,
    engine: runtime.engine,
    redis: runtime.redis,
    packets: runtime.packets,
    logger: runtime.logger.child({ component: "cascade-cleanup" }),
  };
}

export async function deleteEnvironment(deps: CascadeCleanupDeps, environmentId: string): Promise<CascadeCleanupResult> {
  // A second call after the row is gone still sweeps the id (an interrupted call may have left rows).
  return cascade(deps, { kind: "environment", id: environmentId }, [environmentId], async () => ({
    projects: 0,
    environments: (await deps.prisma.runtimeEnvironment.deleteMany({ where: { id: environmentId } })).count,
  }));
}

export async function deleteProject(deps: CascadeCleanupDeps, projectId: string): Promise<CascadeCleanupResult> {
  const environments = await deps.prisma.runtimeEnvironment.findMany({ where: { projectId }, select: { id: true } });
  return cascade(
    deps,
    { kind: "project", id: projectId },
    environments.map((e) => e.id),
    async () => {
      const envCount = await deps.prisma.runtimeEnvironment.count({ where: { projectId } });
      const projects = (await deps.prisma.project.deleteMany({ where: { id: projectId } })).count;
      return { projects, environments: projects > 0 ? envCount : 0 };
    }
  );
}

async function cascade(
  deps: CascadeCleanupDeps,
  target: CascadeCleanupResult["target"],
  environmentIds: string[],
  deleteControlPlaneRows: () => Promise<CascadeCleanupResult["controlPlane"]>
): Promise<CascadeCleanupResult> {
  const { logger } = deps;
  const started = Date.now();
  logger.info("cascade cleanup: started", { target, environmentIds });
  const result: CascadeCleanupResult = {
    target,
    environmentIds,
    runData: { byDatabase: {}, total: zeroCounts() },
    queueMessagesAcknowledged: 0,
    queueKeysDeleted: 0,
    packetsDeleted: 0,
    controlPlane: { projects: 0, environments: 0 },
  };
  const queues = new Map<string, Set<string>>(); // envId → queue names seen
  const concurrencyKeys = new Map<string, Set<string>>(); // `${envId}\0${queue}` → keys seen

  // 1. Fence.
  if (environmentIds.length > 0) {
    for (const id of environmentIds) await deps.engine?.runQueue.pauseEnvironment(id);
    await deps.prisma.runtimeEnvironment.updateMany({ where: { id: { in: environmentIds } }, data: { paused: true, archivedAt: new Date() } });
    for (const q of await deps.prisma.taskQueue.findMany({ where: { runtimeEnvironmentId: { in: environmentIds } }, select: { runtimeEnvironmentId: true, name: true } })) {
      add(queues, q.runtimeEnvironmentId, q.name);
    }
    invalidate(deps, environmentIds);
  }

  const sweep = async (pass: "first" | "final") => {
    // 2. Run-queue state of unfinished runs.
    for await (const page of unfinishedRunsOf(deps.runStore, { environmentIds, finalStatuses: FINAL_RUN_STATUSES, chunkSize: deps.chunkSize })) {
      for (const run of page) {
        add(queues, run.runtimeEnvironmentId, run.queue);
        add(concurrencyKeys, `${run.runtimeEnvironmentId}\0${run.queue}`, run.concurrencyKey ?? "");
        if (await deps.engine?.runQueue.acknowledgeMessage(run.id)) result.queueMessagesAcknowledged++;
      }
    }
    // 3. Run data in both databases.
    const deleted = await deleteEnvironmentRunData(deps.runStore, {
      environmentIds,
      chunkSize: deps.chunkSize,
      log: (message, fields) => {
        if ((fields.deleted as number) > 0) logger.info(`cascade cleanup: ${message}`, { target, pass, ...fields });
      },
    });
    mergeCounts(result.runData, deleted);
    if (deps.packets) result.packetsDeleted += await deps.packets.deleteEnvironments(environmentIds);
  };

  await sweep("first");
  // 4. Control-plane rows.
  result.controlPlane = await deleteControlPlaneRows();
  // 5. Caches.
  invalidate(deps, environmentIds);
  // 6. Stragglers written by a process whose cache still knew the environment.
  await sweep("final");
  // 7. Run-queue keys of the environments.
  if (deps.redis && deps.engine) result.queueKeysDeleted = await purgeQueueKeys(deps.redis, deps.engine.runQueue.keys, environmentIds, queues, concurrencyKeys);

  logger.info("cascade cleanup: done", {
    target,
    environmentIds,
    durationMs: Date.now() - started,
    deleted: result.runData.total,
    byDatabase: result.runData.byDatabase,
    queueMessagesAcknowledged: result.queueMessagesAcknowledged,
    queueKeysDeleted: result.queueKeysDeleted,
    packetsDeleted: result.packetsDeleted,
    controlPlane: result.controlPlane,
  });
  return result;
}

function invalidate(deps: CascadeCleanupDeps, environmentIds: string[]): void {
  for (const id of environmentIds) {
    deps.resolver.invalidateEnv(id);
    deps.resolver.invalidateWorkers(id);
    deps.engine?.invalidateWorkers(id);
  }
}

async function purgeQueueKeys(
  redis: NonNullable<CascadeCleanupDeps["redis"]>,
  keys: RunQueue["keys"],
  environmentIds: string[],
  queues: Map<string, Set<string>>,
  concurrencyKeys: Map<string, Set<string>>
): Promise<number> {
  let deleted = 0;
  for (const envId of environmentIds) {
    const names = [keys.envMeta(envId), keys.envRunning(envId), keys.envDeadLetter(envId), keys.envQueues(envId), keys.envQueuesRotation(envId)];
    for (const queue of queues.get(envId) ?? []) {
      names.push(keys.queueMeta(envId, queue), keys.queueRunning(envId, queue), keys.queueSubs(envId, queue), keys.queueSubsRotation(envId, queue));
      for (const ck of new Set(["", ...(concurrencyKeys.get(`${envId}\0${queue}`) ?? [])])) {
        names.push(keys.subQueue(envId, queue, ck), keys.subRunning(envId, queue, ck));
      }
    }
    deleted += await redis.del(...names);
    await redis.zrem(keys.envs(), envId);
    await redis.zrem(keys.envsRotation(), envId);
  }
  return deleted;
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function zeroCounts(): CleanupCounts {
  return Object.fromEntries(CLEANUP_TABLES.map((t) => [t, 0])) as CleanupCounts;
}

function mergeCounts(into: CascadeCleanupResult["runData"], from: EnvironmentCleanupResult): void {
  for (const [residency, counts] of Object.entries(from.byDatabase) as [Residency, CleanupCounts][]) {
    const target = (into.byDatabase[residency] ??= zeroCounts());
    for (const table of CLEANUP_TABLES) target[table] += counts[table];
  }
  for (const table of CLEANUP_TABLES) into.total[table] += from.total[table];
}
