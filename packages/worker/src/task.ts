import { z } from "zod";
import { ValidationError } from "@runplane/core/errors";
import { configuredPublicApi } from "./config.js";
import { currentRuntime, requireRuntime, type BatchRunResult, type TaskContext, type TaskRunResult } from "./context.js";
import {
  WorkerMachinePreset,
  WorkerQueueName,
  WorkerRetryPolicy,
  WorkerTaskId,
  WORKER_PROTOCOL_LIMITS,
  type WorkerTaskDefinition,
  type WorkerTaskSchedule,
} from "./protocol.js";
import type { BatchItem, BatchTriggerResult, TriggerOptions, TriggerResult } from "./publicApi.js";

export type RetryOptions = {
  maxAttempts?: number;
  factor?: number;
  minTimeoutInMs?: number;
  maxTimeoutInMs?: number;
  randomize?: boolean;
};

export type QueueOptions = {
  name?: string;
  concurrencyLimit?: number;
  /**
   * While a run waits (triggerAndWait, wait.for, wait.forToken…) it gives back its environment slot and,
   * by default, its queue and concurrency-key slots. `false` keeps the queue slots: a triggerAndWait into
   * this same queue is then refused when the queue is full.
   */
  releaseConcurrencyOnWaitpoint?: boolean;
};

export type RunParams = { ctx: TaskContext; signal: AbortSignal };

export type TaskOptions<TPayload, TOutput> = {
  id: string;
  run: (payload: TPayload, params: RunParams) => TOutput | Promise<TOutput>;
  retry?: RetryOptions;
  queue?: QueueOptions;
  /** Seconds of compute per attempt (time spent in waits does not count). At least 5. */
  maxDuration?: number;
  machine?: WorkerMachinePreset;
};

export const TASK_MARKER: unique symbol = Symbol.for("runplane.task") as never;

export type Task<TPayload = any, TOutput = any> = {
  readonly [TASK_MARKER]: true;
  readonly id: string;
  readonly retry?: RetryOptions;
  readonly queue: { name: string; concurrencyLimit?: number; releaseConcurrencyOnWaitpoint?: boolean };
  readonly maxDuration?: number;
  readonly machine?: WorkerMachinePreset;
  /** A declarative schedule (`schedules.task({ cron })`), registered with the worker version. */
  readonly schedule?: WorkerTaskSchedule;
  readonly run: (payload: TPayload, params: RunParams) => TOutput | Promise<TOutput>;
  /** Triggers a run of this task (a child of the current run when called inside one). */
  trigger(payload: TPayload, options?: TriggerOptions): Promise<TriggerResult>;
  batchTrigger(items: Array<BatchItem<TPayload>>): Promise<BatchTriggerResult>;
  /** Inside a run only: triggers a child run and waits for its result. */
  triggerAndWait(payload: TPayload, options?: TriggerOptions): Promise<TaskRunResult<Awaited<TOutput>>>;
  batchTriggerAndWait(items: Array<BatchItem<TPayload>>): Promise<BatchRunResult<Awaited<TOutput>>>;
};

const TaskOptionsSchema = z
  .object({
    id: WorkerTaskId,
    run: z.function(),
    retry: WorkerRetryPolicy.optional(),
    queue: z
      .object({
        name: WorkerQueueName.optional(),
        concurrencyLimit: z.number().int().min(0).max(100_000).optional(),
        releaseConcurrencyOnWaitpoint: z.boolean().optional(),
      })
      .strict()
      .optional(),
    maxDuration: z.number().int().min(WORKER_PROTOCOL_LIMITS.minMaxDurationSeconds).max(2_147_483_647).optional(),
    machine: WorkerMachinePreset.optional(),
  })
  .strict();

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}

/** Checks task options; throws a ValidationError naming every bad field. */
export function validateTaskOptions(options: unknown): void {
  const parsed = TaskOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const id = typeof (options as { id?: unknown })?.id === "string" ? ` "${(options as { id: string }).id}"` : "";
    throw new ValidationError(`Invalid task${id}: ${formatIssues(parsed.error)}`);
  }
}

/** Defines a task. Export it from a file the worker loads. */
export function task<TPayload = unknown, TOutput = unknown>(options: TaskOptions<TPayload, TOutput>): Task<TPayload, TOutput> {
  validateTaskOptions(options);
  const id = options.id;
  const definition: Task<TPayload, TOutput> = {
    [TASK_MARKER]: true,
    id,
    retry: options.retry,
    queue: {
      name: options.queue?.name ?? `task/${id}`,
      concurrencyLimit: options.queue?.concurrencyLimit,
      releaseConcurrencyOnWaitpoint: options.queue?.releaseConcurrencyOnWaitpoint,
    },
    maxDuration: options.maxDuration,
    machine: options.machine,
    run: options.run,
    async trigger(payload, triggerOptions) {
      const runtime = currentRuntime();
      if (runtime) return runtime.ctx.trigger(id, payload, triggerOptions);
      return configuredPublicApi().trigger(id, payload, triggerOptions);
    },
    async batchTrigger(items) {
      const runtime = currentRuntime();
      if (runtime) return runtime.ctx.batchTrigger(id, items);
      return configuredPublicApi().batchTrigger(items.map((item) => ({ task: id, ...item })));
    },
    async triggerAndWait(payload, triggerOptions) {
      return requireRuntime(`${id}.triggerAndWait`).ctx.triggerAndWait(id, payload, triggerOptions);
    },
    async batchTriggerAndWait(items) {
      return requireRuntime(`${id}.batchTriggerAndWait`).ctx.batchTriggerAndWait(id, items);
    },
  };
  return Object.freeze(definition);
}

export function isTask(value: unknown): value is Task {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[TASK_MARKER] === true;
}

/** A task plus where it came from (the CLI fills filePath and exportName). */
export type TaskSource = { task: Task; filePath?: string; exportName?: string };

export function toTaskDefinition(source: TaskSource): WorkerTaskDefinition {
  const { task: t } = source;
  const def: WorkerTaskDefinition = { id: t.id, queue: { name: t.queue.name } };
  if (t.queue.concurrencyLimit !== undefined) def.queue!.concurrencyLimit = t.queue.concurrencyLimit;
  if (t.queue.releaseConcurrencyOnWaitpoint !== undefined) def.queue!.releaseConcurrencyOnWaitpoint = t.queue.releaseConcurrencyOnWaitpoint;
  if (source.filePath) def.filePath = source.filePath;
  if (source.exportName) def.exportName = source.exportName;
  if (t.retry) def.retry = t.retry;
  if (t.maxDuration !== undefined) def.maxDuration = t.maxDuration;
  if (t.machine) def.machine = t.machine;
  if (t.schedule) def.schedule = t.schedule;
  return def;
}
