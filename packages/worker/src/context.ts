import type { WorkerCompletedWaitpoint } from "./protocol.js";
import { AsyncLocalStorage } from "node:async_hooks";
import type { OtlpExporter, RecordOwner } from "./otlpExporter.js";
import type { Logger } from "./log.js";
import type { MetadataStore } from "./metadataStore.js";
import type { BatchItem, BatchTriggerResult, PublicApi, TriggerOptions, TriggerResult } from "./publicApi.js";
import type { WorkerMachinePreset, WorkerTaskRunExecution } from "./protocol.js";

/** The outcome of a child run (triggerAndWait) as the parent sees it. */
export type TaskRunResult<TOutput = unknown> =
  | { ok: true; id: string; taskIdentifier: string; output: TOutput; unwrap(): TOutput }
  | { ok: false; id: string; taskIdentifier: string; error: Error; unwrap(): never };

export type BatchRunResult<TOutput = unknown> = { id: string; runs: TaskRunResult<TOutput>[] };

/** The outcome of waiting for a token. */
export type WaitTokenResult<TOutput = unknown> =
  | { ok: true; id: string; output: TOutput; unwrap(): TOutput }
  | { ok: false; id: string; error: Error; unwrap(): never };

/** What a task's `run` receives as `ctx`. */
export type TaskContext = {
  run: {
    id: string;
    tags: string[];
    isTest: boolean;
    createdAt: Date;
    startedAt?: Date;
    idempotencyKey?: string;
    maxAttempts?: number;
    maxDuration?: number;
    concurrencyKey?: string;
    attemptNumber: number;
  };
  attempt: { number: number; startedAt: Date };
  task: { id: string; filePath: string; exportName?: string };
  queue: { id: string; name: string };
  environment: WorkerTaskRunExecution["environment"];
  organization: { id: string; slug: string };
  project: { id: string; ref: string; slug: string };
  batch?: { id: string };
  worker: { id: string; version: string };
  machine?: WorkerMachinePreset;
  /** Aborted when the attempt is cancelled, exceeds maxDuration or the worker shuts down. */
  signal: AbortSignal;
  /** Fire-and-forget child run (parentRunId set, the parent does not wait). */
  trigger(taskId: string, payload: unknown, options?: TriggerOptions): Promise<TriggerResult>;
  /** Triggers a child run and waits for it to finish; its failure is returned, not thrown. */
  triggerAndWait<TOutput = unknown>(taskId: string, payload: unknown, options?: TriggerOptions): Promise<TaskRunResult<TOutput>>;
  batchTrigger(taskId: string, items: BatchItem[]): Promise<BatchTriggerResult>;
  /** Triggers a batch of child runs of one task and waits for all of them; results are in item order. */
  batchTriggerAndWait<TOutput = unknown>(taskId: string, items: BatchItem[]): Promise<BatchRunResult<TOutput>>;
};

/** What the module functions (`wait`, `metadata`, `logger`) reach through AsyncLocalStorage. */
export interface RunRuntime {
  readonly ctx: TaskContext;
  readonly logger: Logger;
  readonly metadata: MetadataStore;
  readonly api: PublicApi;
  /** Where console.* lines of this attempt are exported (absent when telemetry export is off). */
  readonly telemetry?: { exporter: OtlpExporter; owner: RecordOwner };
  waitUntil(date: Date): Promise<void>;
  waitForToken<TOutput>(tokenId: string, timeout?: Date): Promise<WaitTokenResult<TOutput>>;
  /**
   * For a wait something else already registered with the server (the trigger.dev task runtime's
   * in-task calls): gives the slot back and resolves with the waitpoints once the run is resumed.
   */
  waitForServerBlock(what: string): Promise<WorkerCompletedWaitpoint[]>;
}

// One store per process, even if two copies of this module get loaded (e.g. through a symlink).
const STORAGE_KEY = Symbol.for("runplane.worker.runStorage");
type GlobalWithStorage = typeof globalThis & { [STORAGE_KEY]?: AsyncLocalStorage<RunRuntime> };
const g = globalThis as GlobalWithStorage;
const storage: AsyncLocalStorage<RunRuntime> = (g[STORAGE_KEY] ??= new AsyncLocalStorage<RunRuntime>());

export function runWithRuntime<T>(runtime: RunRuntime, fn: () => T): T {
  return storage.run(runtime, fn);
}

export function currentRuntime(): RunRuntime | undefined {
  return storage.getStore();
}

export function requireRuntime(what: string): RunRuntime {
  const runtime = storage.getStore();
  if (!runtime) throw new Error(`${what} can only be used inside a task's run()`);
  return runtime;
}
