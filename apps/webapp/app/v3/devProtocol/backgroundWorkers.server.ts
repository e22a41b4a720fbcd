import type { RegisterWorkerBody } from "@internal/run-engine";
import { NotFoundError } from "@runplane/core";
import { z } from "zod";
import { getRuntime } from "~/services/runtime.server";
import { readWorkerBody } from "~/v3/workerProtocol/http.server";
import type { WorkerEnvironment } from "~/v3/workerProtocol/runAccess.server";
import { registerWorkerWithSchedules } from "~/v3/workerProtocol/workerProtocol.server";

/**
 * `POST /api/v1/projects/:ref/background-workers`: the trigger.dev CLI registers the tasks it built.
 * The server mints the version (`YYYYMMDD.N`, counting up per environment and day) and registers it
 * through the same engine call as `/api/v1/worker/register`; the answer's `id` is the worker's
 * friendly id, which the CLI then names in dequeue. The same content hash again returns the same worker.
 */

const QueueManifest = z.object({ name: z.string().min(1).max(128).optional(), concurrencyLimit: z.number().int().min(0).nullish() }).passthrough();

const TaskResource = z
  .object({
    id: z.string().min(1).max(256),
    filePath: z.string().max(1024),
    exportName: z.string().max(256).optional(),
    queue: QueueManifest.optional(),
    retry: z
      .object({
        maxAttempts: z.number().int().optional(),
        factor: z.number().optional(),
        minTimeoutInMs: z.number().int().optional(),
        maxTimeoutInMs: z.number().int().optional(),
        randomize: z.boolean().optional(),
      })
      .passthrough()
      .optional(),
    machine: z.object({ preset: z.string().optional() }).passthrough().optional(),
    maxDuration: z.number().optional(),
    /** `schedules.task({ cron })`: a declarative schedule. */
    schedule: z.object({ cron: z.string(), timezone: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();

export const CreateBackgroundWorkerRequest = z.object({
  localOnly: z.boolean(),
  metadata: z
    .object({
      packageVersion: z.string().max(64),
      contentHash: z.string().max(256),
      cliPackageVersion: z.string().max(64).optional(),
      tasks: z.array(TaskResource).max(1000),
      queues: z.array(QueueManifest.extend({ name: z.string().min(1).max(128) })).max(1000).optional(),
    })
    .passthrough(),
  engine: z.string().optional(),
});

type Request_ = z.infer<typeof CreateBackgroundWorkerRequest>;

export async function createBackgroundWorker(environment: WorkerEnvironment, projectRef: string | undefined, request: Request) {
  if (projectRef !== environment.project.externalRef) throw new NotFoundError("Project not found");
  const body = await readWorkerBody(request, CreateBackgroundWorkerRequest);
  const { prisma } = getRuntime();

  const latest = await prisma.backgroundWorker.findFirst({
    where: { runtimeEnvironmentId: environment.id },
    orderBy: { createdAt: "desc" },
    select: { id: true, friendlyId: true, version: true, contentHash: true },
  });
  if (latest && latest.contentHash === body.metadata.contentHash) {
    return { id: latest.friendlyId, version: latest.version, contentHash: latest.contentHash };
  }

  const version = nextVersion(latest?.version);
  const schedules = body.metadata.tasks.flatMap((task) => (task.schedule ? [{ taskId: task.id, cron: task.schedule.cron, timezone: task.schedule.timezone }] : []));
  const registered = await registerWorkerWithSchedules(environment, toRegisterBody(body, version), schedules);
  return { id: registered.worker.friendlyId, version: registered.worker.version, contentHash: body.metadata.contentHash };
}

/** `YYYYMMDD.N`: N + 1 when the latest version is today's, else 1. */
export function nextVersion(latest: string | undefined, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll("-", "");
  const match = latest ? /^(\d{8})\.(\d+)$/.exec(latest) : null;
  const n = match && match[1] === day ? Number(match[2]) + 1 : 1;
  return `${day}.${n}`;
}

function toRegisterBody(body: Request_, version: string): RegisterWorkerBody {
  const declared = new Map((body.metadata.queues ?? []).map((q) => [q.name, q.concurrencyLimit ?? null]));
  return {
    version,
    sdkVersion: body.metadata.packageVersion,
    contentHash: body.metadata.contentHash,
    tasks: body.metadata.tasks.map((task) => {
      const queueName = task.queue?.name ?? `task/${task.id}`;
      const limit = task.queue?.concurrencyLimit ?? declared.get(queueName);
      const retry = task.retry
        ? {
            ...(task.retry.maxAttempts !== undefined ? { maxAttempts: clamp(task.retry.maxAttempts, 1, 250) } : {}),
            ...(task.retry.factor !== undefined ? { factor: clamp(task.retry.factor, 1, 10) } : {}),
            ...(task.retry.minTimeoutInMs !== undefined ? { minTimeoutInMs: Math.max(0, task.retry.minTimeoutInMs) } : {}),
            ...(task.retry.maxTimeoutInMs !== undefined ? { maxTimeoutInMs: Math.max(0, task.retry.maxTimeoutInMs) } : {}),
            ...(task.retry.randomize !== undefined ? { randomize: task.retry.randomize } : {}),
          }
        : undefined;
      return {
        id: task.id,
        filePath: task.filePath,
        exportName: task.exportName,
        queue: { name: queueName, concurrencyLimit: limit ?? null },
        retry,
        maxDuration: task.maxDuration !== undefined ? Math.max(5, Math.round(task.maxDuration)) : undefined,
        machine: task.machine?.preset ? { preset: task.machine.preset } : undefined,
      };
    }),
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
