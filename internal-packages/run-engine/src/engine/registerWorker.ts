import type { ControlPlaneClient } from "@internal/database";
import type { ControlPlaneResolver, ResolvedEnvironment } from "@internal/database/resolver";
import { generateInternalId, toFriendlyId, ValidationError } from "@runplane/core";
import { z } from "zod";
import type { RunEngine } from "./runEngine.js";

export const RegisterWorkerBodySchema = z.object({
  version: z.string().min(1).max(128),
  sdkVersion: z.string().max(64).optional(),
  contentHash: z.string().max(256).optional(),
  tasks: z
    .array(
      z.object({
        id: z.string().min(1).max(256),
        filePath: z.string().max(1024).optional(),
        exportName: z.string().max(256).optional(),
        queue: z
          .object({
            name: z.string().min(1).max(128),
            concurrencyLimit: z.number().int().min(0).max(100_000).nullish(),
            releaseConcurrencyOnWaitpoint: z.boolean().optional(),
          })
          .optional(),
        retry: z
          .object({
            maxAttempts: z.number().int().min(1).max(250).optional(),
            factor: z.number().min(1).max(10).optional(),
            minTimeoutInMs: z.number().int().min(0).optional(),
            maxTimeoutInMs: z.number().int().min(0).optional(),
            randomize: z.boolean().optional(),
          })
          .optional(),
        maxDuration: z.number().int().min(5).optional(),
        machine: z.object({ preset: z.string().optional() }).passthrough().optional(),
      })
    )
    .max(1000),
});
export type RegisterWorkerBody = z.infer<typeof RegisterWorkerBodySchema>;

export type RegisterWorkerDeps = {
  /** Control-plane Prisma client: workers, tasks and queues are control-plane rows, not run tables. */
  prisma: ControlPlaneClient;
  resolver: ControlPlaneResolver;
  /** Sets queue limits in Redis and requeues runs parked for lack of a worker version. */
  engine?: RunEngine;
};

/**
 * `POST /api/v1/worker/register`: upserts the BackgroundWorker (by version), its tasks and their
 * queues, pushes queue concurrency limits to the run queue and invalidates the resolver's worker cache.
 */
export async function registerWorker(
  deps: RegisterWorkerDeps,
  env: Pick<ResolvedEnvironment, "id" | "projectId" | "maximumConcurrencyLimit">,
  rawBody: unknown
): Promise<{ worker: { id: string; friendlyId: string; version: string } }> {
  const parsed = RegisterWorkerBodySchema.safeParse(rawBody);
  if (!parsed.success) throw new ValidationError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const body = parsed.data;
  const slugs = body.tasks.map((t) => t.id);
  if (new Set(slugs).size !== slugs.length) throw new ValidationError("Task ids must be unique within a worker");

  const queues = new Map<string, { name: string; limit: number | null | undefined; named: boolean; release: boolean | undefined }>();
  for (const task of body.tasks) {
    const name = task.queue?.name ?? `task/${task.id}`;
    const previous = queues.get(name);
    const limit = task.queue?.concurrencyLimit;
    const release = task.queue?.releaseConcurrencyOnWaitpoint;
    queues.set(name, {
      name,
      limit: limit !== undefined ? limit : previous?.limit,
      named: Boolean(task.queue?.name) || Boolean(previous?.named),
      release: release !== undefined ? release : previous?.release,
    });
  }

  const worker = await deps.prisma.$transaction(async (tx) => {
    const workerId = generateInternalId("LEGACY");
    const w = await tx.backgroundWorker.upsert({
      where: { projectId_runtimeEnvironmentId_version: { projectId: env.projectId, runtimeEnvironmentId: env.id, version: body.version } },
      create: {
        id: workerId,
        friendlyId: toFriendlyId("worker", workerId),
        version: body.version,
        sdkVersion: body.sdkVersion ?? "unknown",
        contentHash: body.contentHash ?? "",
        runtimeEnvironmentId: env.id,
        projectId: env.projectId,
      },
      update: { sdkVersion: body.sdkVersion ?? "unknown", contentHash: body.contentHash ?? "" },
    });
    const queueIds = new Map<string, string>();
    for (const q of queues.values()) {
      const queueId = generateInternalId("LEGACY");
      // An operator's override outlives re-registration: only the declared base changes then.
      const existing = await tx.taskQueue.findUnique({
        where: { runtimeEnvironmentId_name: { runtimeEnvironmentId: env.id, name: q.name } },
        select: { concurrencyLimitOverriddenAt: true },
      });
      const limitUpdate =
        q.limit === undefined
          ? {}
          : existing?.concurrencyLimitOverriddenAt
            ? { concurrencyLimitBase: q.limit }
            : { concurrencyLimit: q.limit, concurrencyLimitBase: q.limit };
      const row = await tx.taskQueue.upsert({
        where: { runtimeEnvironmentId_name: { runtimeEnvironmentId: env.id, name: q.name } },
        create: {
          id: queueId,
          friendlyId: toFriendlyId("queue", queueId),
          name: q.name,
          type: q.named ? "NAMED" : "VIRTUAL",
          concurrencyLimit: q.limit ?? null,
          concurrencyLimitBase: q.limit ?? null,
          releaseConcurrencyOnWaitpoint: q.release ?? true,
          runtimeEnvironmentId: env.id,
          projectId: env.projectId,
        },
        update: { ...limitUpdate, releaseConcurrencyOnWaitpoint: q.release ?? true },
      });
      queueIds.set(q.name, row.id);
    }
    for (const task of body.tasks) {
      const queueId = queueIds.get(task.queue?.name ?? `task/${task.id}`)!;
      const data = {
        filePath: task.filePath ?? "",
        exportName: task.exportName ?? null,
        queueId,
        retryConfig: (task.retry ?? undefined) as never,
        machineConfig: (task.machine ?? undefined) as never,
        maxDurationInSeconds: task.maxDuration ?? null,
      };
      await tx.backgroundWorkerTask.upsert({
        where: { workerId_slug: { workerId: w.id, slug: task.id } },
        create: { id: generateInternalId("LEGACY"), slug: task.id, workerId: w.id, runtimeEnvironmentId: env.id, projectId: env.projectId, ...data },
        update: data,
      });
    }
    return w;
  });

  deps.resolver.invalidateWorkers(env.id);
  if (deps.engine) {
    deps.engine.invalidateWorkers(env.id);
    await deps.engine.runQueue.updateEnvConcurrencyLimit(env.id, env.maximumConcurrencyLimit);
    const limits = await deps.prisma.taskQueue.findMany({
      where: { runtimeEnvironmentId: env.id, name: { in: [...queues.keys()] } },
      select: { name: true, concurrencyLimit: true, concurrencyLimitTotal: true, releaseConcurrencyOnWaitpoint: true, paused: true },
    });
    for (const q of limits) {
      await deps.engine.runQueue.updateQueueConcurrencyLimit(env.id, q.name, q.concurrencyLimit);
      await deps.engine.runQueue.updateQueueTotalLimit(env.id, q.name, q.concurrencyLimitTotal);
      await deps.engine.runQueue.updateQueueReleaseOnWaitpoint(env.id, q.name, q.releaseConcurrencyOnWaitpoint);
      if (q.paused) await deps.engine.runQueue.pauseQueue(env.id, q.name);
    }
    await deps.engine.requeuePendingVersionRuns(env.id, slugs);
  }
  return { worker: { id: worker.id, friendlyId: worker.friendlyId, version: worker.version } };
}
