/**
 * Messages between a runplane-worker run and the worker thread that executes a trigger.dev task.
 * The thread owns the trigger.dev task runtime (its globals are per thread); the run owns the worker
 * protocol (heartbeats, slots, waits, completion).
 */

/** A completed waitpoint in the shape the trigger.dev task runtime resolves. */
export type TriggerCompletedWaitpoint = {
  id: string;
  friendlyId: string;
  type: "RUN" | "DATETIME" | "MANUAL" | "BATCH";
  completedAt: Date;
  index?: number;
  completedByTaskRun?: { id: string; friendlyId: string };
  completedByBatch?: { id: string; friendlyId: string };
  output?: string;
  outputType?: string;
  outputIsError: boolean;
};

export type ThreadInput = {
  files: Array<{ filePath: string; absolutePath: string }>;
  /** The trigger.dev TaskRunExecution of this attempt. */
  execution: Record<string, unknown>;
  apiUrl: string;
  secretKey: string;
  otlpEndpoint: string;
};

export type ToThread = { type: "resumed"; seq: number; waitpoints: TriggerCompletedWaitpoint[] } | { type: "resumeFailed"; seq: number; message: string };

export type TriggerCompletion =
  | { ok: true; output?: string; outputType: string }
  | { ok: false; error: { type: string; name?: string; message?: string; stackTrace?: string; raw?: string; code?: string }; retry?: { delay: number }; skippedRetrying?: boolean };

export type FromThread = { type: "wait"; seq: number; what: string } | { type: "completed"; completion: TriggerCompletion } | { type: "failed"; message: string };
