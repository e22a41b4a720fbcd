import { resolve, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { resourceCatalog } from "@trigger.dev/core/v3";
import { StandardResourceCatalog } from "@trigger.dev/core/v3/workers";
import { machinePresetResources, WorkerMachinePreset } from "@runplane/core/schemas";
import { requireRuntime } from "../context.js";
import { SKIP_RETRYING } from "../errors.js";
import { serializePacket } from "../packets.js";
import { task, type RetryOptions, type TaskSource } from "../task.js";
import { runInThread } from "./runInThread.js";
import type { TriggerCompletion } from "./messages.js";

/**
 * `runplane-worker` for files written against `@trigger.dev/sdk`: the files are imported once here
 * to learn their tasks (id, queue, retry, maxDuration, machine), which are registered like any other;
 * each attempt then runs in its own worker thread through the SDK's own task executor.
 */

export type TriggerDevFile = { filePath: string; absolutePath: string };

type Manifest = {
  id: string;
  filePath: string;
  exportName?: string;
  queue?: { name?: string; concurrencyLimit?: number | null };
  retry?: RetryOptions & Record<string, unknown>;
  maxDuration?: number;
  machine?: { preset?: string };
  /** `schedules.task({ cron })` of the SDK: a declarative schedule. */
  schedule?: { cron: string; timezone?: string };
};

export type TriggerDevConnection = { apiUrl: string; secretKey: string };

/** Registers the trigger.dev resource catalog (once) so that importing a task file records its tasks. */
export function beginTriggerDevDiscovery(): void {
  resourceCatalog.setGlobalResourceCatalog(new StandardResourceCatalog());
}

export async function importTriggerDevFile(absolutePath: string, cwd: string): Promise<Record<string, unknown>> {
  const filePath = relative(cwd, absolutePath) || absolutePath;
  resourceCatalog.setCurrentFileContext(filePath, absolutePath);
  try {
    return (await import(pathToFileURL(absolutePath).href)) as Record<string, unknown>;
  } finally {
    resourceCatalog.clearCurrentFileContext();
  }
}

/** The trigger.dev tasks the imported files defined, as runplane task sources. */
export function collectTriggerDevTasks(files: TriggerDevFile[], connection: () => TriggerDevConnection): TaskSource[] {
  return (resourceCatalog.listTaskManifests() as Manifest[]).map((manifest) => ({
    task: wrapTask(manifest, files, connection),
    filePath: manifest.filePath,
    ...(manifest.exportName ? { exportName: manifest.exportName } : {}),
  }));
}

export function triggerDevFiles(paths: string[], cwd: string): TriggerDevFile[] {
  return paths.map((p) => {
    const absolutePath = resolve(cwd, p);
    return { filePath: relative(cwd, absolutePath) || absolutePath, absolutePath };
  });
}

function wrapTask(manifest: Manifest, files: TriggerDevFile[], connection: () => TriggerDevConnection) {
  const wrapped = wrapRun(manifest, files, connection);
  if (!manifest.schedule) return wrapped;
  const { cron, timezone } = manifest.schedule;
  return Object.freeze({ ...wrapped, schedule: { cron, ...(timezone ? { timezone } : {}) } });
}

function wrapRun(manifest: Manifest, files: TriggerDevFile[], connection: () => TriggerDevConnection) {
  const machine = WorkerMachinePreset.safeParse(manifest.machine?.preset);
  return task({
    id: manifest.id,
    ...(manifest.retry ? { retry: retryOptions(manifest.retry) } : {}),
    queue: {
      ...(manifest.queue?.name ? { name: manifest.queue.name } : {}),
      ...(typeof manifest.queue?.concurrencyLimit === "number" ? { concurrencyLimit: manifest.queue.concurrencyLimit } : {}),
    },
    ...(manifest.maxDuration !== undefined ? { maxDuration: Math.max(5, Math.round(manifest.maxDuration)) } : {}),
    ...(machine.success ? { machine: machine.data } : {}),
    run: async (payload: unknown, { ctx, signal }) => {
      const runtime = requireRuntime(`trigger.dev task "${manifest.id}"`);
      const { apiUrl, secretKey } = connection();
      const packet = serializePacket(payload);
      const execution = {
        attempt: { number: ctx.attempt.number, startedAt: ctx.attempt.startedAt },
        run: {
          id: ctx.run.id,
          payload: packet.data ?? "",
          payloadType: packet.dataType,
          tags: ctx.run.tags,
          isTest: ctx.run.isTest,
          createdAt: ctx.run.createdAt,
          startedAt: ctx.run.startedAt ?? ctx.attempt.startedAt,
          ...(ctx.run.idempotencyKey ? { idempotencyKey: ctx.run.idempotencyKey } : {}),
          ...(ctx.run.maxAttempts !== undefined ? { maxAttempts: ctx.run.maxAttempts } : {}),
          ...(ctx.run.maxDuration !== undefined ? { maxDuration: ctx.run.maxDuration } : {}),
          metadata: runtime.metadata.current(),
          version: ctx.worker.version,
        },
        task: { id: ctx.task.id, filePath: ctx.task.filePath, ...(ctx.task.exportName ? { exportName: ctx.task.exportName } : {}) },
        queue: ctx.queue,
        environment: { id: ctx.environment.id, slug: ctx.environment.slug, type: ctx.environment.type },
        organization: { id: ctx.organization.id, slug: ctx.organization.slug, name: ctx.organization.slug },
        project: { id: ctx.project.id, ref: ctx.project.ref, slug: ctx.project.slug, name: ctx.project.slug },
        machine: machinePresetResources(ctx.machine),
        ...(ctx.batch ? { batch: ctx.batch } : {}),
      };
      const completion = await runInThread(
        { files, execution, apiUrl, secretKey, otlpEndpoint: `${apiUrl.replace(/\/$/, "")}/otel` },
        signal,
        (what) => runtime.waitForServerBlock(what)
      );
      if (completion.ok) return runtime.api.decodePacket(completion.output, completion.outputType);
      throw toThrowable(completion);
    },
  });
}

function retryOptions(retry: Manifest["retry"] & object): RetryOptions {
  const out: RetryOptions = {};
  if (retry.maxAttempts !== undefined) out.maxAttempts = Math.min(250, Math.max(1, retry.maxAttempts));
  if (retry.factor !== undefined) out.factor = Math.min(10, Math.max(1, retry.factor));
  if (retry.minTimeoutInMs !== undefined) out.minTimeoutInMs = Math.max(0, retry.minTimeoutInMs);
  if (retry.maxTimeoutInMs !== undefined) out.maxTimeoutInMs = Math.max(out.minTimeoutInMs ?? 0, retry.maxTimeoutInMs);
  if (retry.randomize !== undefined) out.randomize = retry.randomize;
  return out;
}

/**
 * The task's error as the worker reports it. The SDK's executor already applied catchError and the
 * retry options: a failure it does not retry is marked so the server does not retry it either.
 */
function toThrowable(completion: Extract<TriggerCompletion, { ok: false }>): unknown {
  const { error } = completion;
  let thrown: unknown;
  if (error.type === "STRING_ERROR") thrown = error.raw ?? error.message ?? "";
  else if (error.type === "CUSTOM_ERROR") {
    try {
      thrown = JSON.parse(error.raw ?? "null");
    } catch {
      thrown = error.raw;
    }
  } else {
    const e = new Error(error.message ?? error.code ?? "Task failed");
    e.name = error.type === "INTERNAL_ERROR" ? (error.code ?? "InternalError") : (error.name ?? "Error");
    e.stack = error.stackTrace ?? e.stack;
    thrown = e;
  }
  if (!completion.retry || completion.skippedRetrying) {
    const marked = thrown instanceof Error ? thrown : Object.assign(new Error(typeof thrown === "string" ? thrown : JSON.stringify(thrown)), { name: "Error" });
    (marked as Error & { [SKIP_RETRYING]?: boolean })[SKIP_RETRYING] = true;
    return marked;
  }
  return thrown;
}
