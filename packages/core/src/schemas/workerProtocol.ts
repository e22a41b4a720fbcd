/**
 * The worker protocol: what a worker process (packages/worker, or any own worker) and the webapp's
 * `/api/v1/worker/*` routes exchange. Both sides parse with these schemas. The prose contract, with
 * status codes, the snapshot rule and long-poll semantics, is apps/webapp/docs/worker-protocol.md.
 *
 * Conventions:
 * - Every name here starts with `Worker` so it never collides with the public API schemas.
 * - Optional fields in responses may be omitted or null (the receiving side treats both as absent).
 * - Dates travel as ISO strings; schemas coerce them to `Date` on parse.
 * - Run, snapshot, waitpoint and batch ids are friendly ids (`run_…`, `snapshot_…`, …).
 */
import { z } from "zod";

// ---------------------------------------------------------------------------------------------
// Shared pieces

export const WORKER_PROTOCOL_LIMITS = {
  maxRunsPerDequeue: 50,
  maxWaitMs: 30_000,
  maxTasksPerVersion: 1000,
  /** Retry attempts above this are refused (the engine's hard cap on attempts per run). */
  maxAttempts: 250,
  /** maxDuration is clamped to at least this many seconds by the engine; lower values are refused. */
  minMaxDurationSeconds: 5,
} as const;

export const WorkerMachinePreset = z.enum([
  "micro",
  "small-1x",
  "small-2x",
  "medium-1x",
  "medium-2x",
  "large-1x",
  "large-2x",
]);
export type WorkerMachinePreset = z.infer<typeof WorkerMachinePreset>;

/** Task ids: what `POST /api/v1/tasks/:taskId/trigger` addresses. No whitespace, no slash. */
export const WorkerTaskId = z
  .string()
  .min(1, "task id must not be empty")
  .max(128, "task id must be at most 128 characters")
  .regex(/^[A-Za-z0-9_.:@-]+$/, "task id may only contain letters, digits and _ . : @ -");

export const WorkerQueueName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:/@-]+$/, "queue name may only contain letters, digits and _ . : / @ -");

/** A task's retry policy; the server applies it when an attempt fails with a retryable error. */
export const WorkerRetryPolicy = z
  .object({
    maxAttempts: z.number().int().min(1).max(WORKER_PROTOCOL_LIMITS.maxAttempts).optional(),
    factor: z.number().finite().min(1).max(10).optional(),
    minTimeoutInMs: z.number().int().min(0).max(86_400_000).optional(),
    maxTimeoutInMs: z.number().int().min(0).max(86_400_000).optional(),
    randomize: z.boolean().optional(),
  })
  .strict()
  .refine(
    (r) => r.minTimeoutInMs === undefined || r.maxTimeoutInMs === undefined || r.minTimeoutInMs <= r.maxTimeoutInMs,
    { message: "retry.minTimeoutInMs must not exceed retry.maxTimeoutInMs", path: ["minTimeoutInMs"] },
  );
export type WorkerRetryPolicy = z.infer<typeof WorkerRetryPolicy>;

export const WorkerQueueConfig = z
  .object({
    name: WorkerQueueName,
    concurrencyLimit: z.number().int().min(0).max(100_000).optional(),
    /** Runs give their queue and concurrency-key slots back while they wait (default true; the env slot always). */
    releaseConcurrencyOnWaitpoint: z.boolean().optional(),
  })
  .strict();
export type WorkerQueueConfig = z.infer<typeof WorkerQueueConfig>;

/** Body of every 4xx/5xx answer. */
export const WorkerErrorBody = z.object({ error: z.string() });
export type WorkerErrorBody = z.infer<typeof WorkerErrorBody>;

/** 409 answer to a run-scoped call whose snapshotId is no longer the run's latest. */
export const WorkerStaleSnapshotBody = z.object({
  error: z.literal("stale snapshot"),
  latestSnapshotId: z.string(),
});
export type WorkerStaleSnapshotBody = z.infer<typeof WorkerStaleSnapshotBody>;

const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);
const optionalInt = z
  .number()
  .int()
  .nullish()
  .transform((v) => v ?? undefined);

// ---------------------------------------------------------------------------------------------
// POST /api/v1/worker/register

export const WorkerTaskSchedule = z
  .object({
    cron: z.string().min(1).max(100),
    /** IANA name; UTC when absent. */
    timezone: z.string().min(1).max(64).optional(),
  })
  .strict();
export type WorkerTaskSchedule = z.infer<typeof WorkerTaskSchedule>;

export const WorkerTaskDefinition = z
  .object({
    id: WorkerTaskId,
    filePath: z.string().max(1024).optional(),
    exportName: z.string().max(256).optional(),
    queue: WorkerQueueConfig.optional(),
    retry: WorkerRetryPolicy.optional(),
    /** Seconds of compute time per attempt. */
    maxDuration: z.number().int().min(WORKER_PROTOCOL_LIMITS.minMaxDurationSeconds).max(2_147_483_647).optional(),
    machine: WorkerMachinePreset.optional(),
    /** A declarative schedule (`schedules.task({ cron })`); the server checks the cron and timezone. */
    schedule: WorkerTaskSchedule.optional(),
  })
  .strict();
export type WorkerTaskDefinition = z.infer<typeof WorkerTaskDefinition>;

export const WorkerRegisterRequest = z
  .object({
    version: z.string().min(1).max(64),
    sdkVersion: z.string().max(64).optional(),
    tasks: z
      .array(WorkerTaskDefinition)
      .min(1)
      .max(WORKER_PROTOCOL_LIMITS.maxTasksPerVersion)
      .refine((tasks) => new Set(tasks.map((t) => t.id)).size === tasks.length, {
        message: "task ids must be unique within a version",
      }),
  })
  .strict();
export type WorkerRegisterRequest = z.infer<typeof WorkerRegisterRequest>;

export const WorkerRegisterResponse = z.object({
  worker: z.object({ id: z.string(), friendlyId: z.string(), version: z.string() }),
});
export type WorkerRegisterResponse = z.infer<typeof WorkerRegisterResponse>;

// ---------------------------------------------------------------------------------------------
// POST /api/v1/worker/dequeue (long-poll)

export const WorkerDequeueRequest = z
  .object({
    version: z.string().min(1).max(64).optional(),
    maxRuns: z.number().int().min(1).max(WORKER_PROTOCOL_LIMITS.maxRunsPerDequeue),
    waitMs: z.number().int().min(0).max(WORKER_PROTOCOL_LIMITS.maxWaitMs),
  })
  .strict();
export type WorkerDequeueRequest = z.infer<typeof WorkerDequeueRequest>;

export const WorkerDequeuedRun = z.object({
  runId: z.string(),
  snapshotId: z.string(),
  /** The attempt number the next `attempts/start` will create. */
  attemptNumber: z.number().int().min(1),
  taskIdentifier: z.string(),
});
export type WorkerDequeuedRun = z.infer<typeof WorkerDequeuedRun>;

export const WorkerDequeueResponse = z.object({ runs: z.array(WorkerDequeuedRun) });
export type WorkerDequeueResponse = z.infer<typeof WorkerDequeueResponse>;

// ---------------------------------------------------------------------------------------------
// POST /api/v1/worker/runs/:runId/snapshots/:snapshotId/attempts/start

export const WorkerEnvironmentType = z.enum(["DEVELOPMENT", "STAGING", "PRODUCTION", "PREVIEW"]);

export const WorkerTaskRunExecution = z.object({
  run: z.object({
    id: z.string(),
    /** The stored packet: a string to be decoded according to payloadType. */
    payload: z
      .string()
      .nullish()
      .transform((v) => v ?? ""),
    payloadType: z
      .string()
      .nullish()
      .transform((v) => v ?? "application/json"),
    tags: z
      .array(z.string())
      .nullish()
      .transform((v) => v ?? []),
    /** The run's metadata, parsed (an object). */
    metadata: z
      .record(z.unknown())
      .nullish()
      .transform((v) => v ?? undefined),
    isTest: z.boolean().default(false),
    createdAt: z.coerce.date(),
    startedAt: z.coerce
      .date()
      .nullish()
      .transform((v) => v ?? undefined),
    idempotencyKey: optionalString,
    maxAttempts: optionalInt,
    /** Seconds; absent means the task's own maxDuration (or none). */
    maxDuration: optionalInt,
    concurrencyKey: optionalString,
  }),
  attempt: z.object({ number: z.number().int().min(1), startedAt: z.coerce.date() }),
  task: z.object({ id: z.string(), filePath: z.string().default(""), exportName: optionalString }),
  queue: z.object({ id: z.string(), name: z.string() }),
  environment: z.object({ id: z.string(), slug: z.string(), type: WorkerEnvironmentType }),
  organization: z.object({ id: z.string(), slug: z.string() }),
  project: z.object({ id: z.string(), ref: z.string(), slug: z.string() }),
  batch: z
    .object({ id: z.string() })
    .nullish()
    .transform((v) => v ?? undefined),
});
export type WorkerTaskRunExecution = z.infer<typeof WorkerTaskRunExecution>;
export type WorkerTaskRunExecutionInput = z.input<typeof WorkerTaskRunExecution>;

export const WorkerStartAttemptResponse = z.object({
  /** The new EXECUTING snapshot: every later call for this attempt carries it. */
  snapshotId: z.string(),
  execution: WorkerTaskRunExecution,
  /** The environment's variables (decrypted), set in the task's `process.env` before it runs. */
  envVars: z.record(z.string()).default({}),
});
export type WorkerStartAttemptResponse = z.infer<typeof WorkerStartAttemptResponse>;

// ---------------------------------------------------------------------------------------------
// POST …/heartbeat

export const WorkerHeartbeatResponse = z.object({ ok: z.literal(true) });
export type WorkerHeartbeatResponse = z.infer<typeof WorkerHeartbeatResponse>;

// ---------------------------------------------------------------------------------------------
// POST …/attempts/complete

export const WorkerTaskRunErrorType = z.enum(["BUILT_IN_ERROR", "STRING_ERROR", "CUSTOM_ERROR", "INTERNAL_ERROR"]);
export type WorkerTaskRunErrorType = z.infer<typeof WorkerTaskRunErrorType>;

/**
 * A serialized task error. `code` is meaningful only for INTERNAL_ERROR (e.g. TASK_RUN_CANCELLED,
 * MAX_DURATION_EXCEEDED, TASK_PROCESS_SIGTERM); the server classifies retryability from type + code.
 */
export const WorkerTaskRunError = z.object({
  type: WorkerTaskRunErrorType,
  name: z.string().max(1024).optional(),
  message: z.string(),
  stackTrace: z.string().optional(),
  raw: z.string().optional(),
  code: z.string().max(128).optional(),
});
export type WorkerTaskRunError = z.infer<typeof WorkerTaskRunError>;

/** INTERNAL_ERROR codes the worker itself produces. */
export const WORKER_INTERNAL_ERROR_CODES = {
  /** The run was cancelled (or taken away) while the attempt ran: the attempt acknowledges it. Not retried. */
  cancelled: "TASK_RUN_CANCELLED",
  /** The attempt exceeded maxDuration. Not retried; the run becomes TIMED_OUT. */
  maxDurationExceeded: "MAX_DURATION_EXCEEDED",
  /** The worker shut down before the attempt finished. Retryable: the server requeues the run. */
  workerShutdown: "TASK_PROCESS_SIGTERM",
  /** The dequeued task is not in this worker. Not retried. */
  taskNotFound: "COULD_NOT_FIND_TASK",
  /** The payload could not be decoded. Not retried. */
  inputError: "TASK_INPUT_ERROR",
  /** The output could not be serialized. Not retried. */
  outputError: "TASK_OUTPUT_ERROR",
} as const;

export const WorkerAttemptSuccess = z.object({
  ok: z.literal(true),
  /** Serialized output packet (see outputType). Absent when the task returned undefined. */
  output: z.string().optional(),
  outputType: z.string().optional(),
  usage: z.object({ durationMs: z.number().int().min(0) }).optional(),
});

export const WorkerAttemptFailure = z.object({
  ok: z.literal(false),
  error: WorkerTaskRunError,
  /** true: never retry this failure, whatever the retry policy says (AbortTaskRunError). */
  skipRetrying: z.boolean().optional(),
  usage: z.object({ durationMs: z.number().int().min(0) }).optional(),
});

export const WorkerAttemptCompletion = z.discriminatedUnion("ok", [WorkerAttemptSuccess, WorkerAttemptFailure]);
export type WorkerAttemptCompletion = z.infer<typeof WorkerAttemptCompletion>;

export const WorkerCompleteAttemptRequest = z.object({ completion: WorkerAttemptCompletion });
export type WorkerCompleteAttemptRequest = z.infer<typeof WorkerCompleteAttemptRequest>;

export const WorkerAttemptStatus = z.enum(["RUN_FINISHED", "RETRY_QUEUED", "RETRY_IMMEDIATELY", "RUN_PENDING_CANCEL"]);
export type WorkerAttemptStatus = z.infer<typeof WorkerAttemptStatus>;

export const WorkerCompleteAttemptResponse = z.object({
  result: z.object({
    attemptStatus: WorkerAttemptStatus,
    snapshotId: z.string(),
    retryAt: z.coerce
      .date()
      .nullish()
      .transform((v) => v ?? undefined),
  }),
});
export type WorkerCompleteAttemptResponse = z.infer<typeof WorkerCompleteAttemptResponse>;

// ---------------------------------------------------------------------------------------------
// Waits: POST …/wait/duration, POST …/wait/token

export const WorkerWaitDurationRequest = z.object({ date: z.coerce.date() }).strict();
export type WorkerWaitDurationRequest = z.infer<typeof WorkerWaitDurationRequest>;

export const WorkerWaitTokenRequest = z
  .object({
    waitpointId: z.string().min(1),
    /** Optional extension: fail the wait with a timeout error at this instant (ISO date). */
    timeout: z.coerce.date().optional(),
  })
  .strict();
export type WorkerWaitTokenRequest = z.infer<typeof WorkerWaitTokenRequest>;

export const WorkerWaitResponse = z.object({
  /** The run's new snapshot (EXECUTING_WITH_WAITPOINTS, or EXECUTING if nothing is left to wait for). */
  snapshotId: z.string(),
  waitpointId: z.string(),
});
export type WorkerWaitResponse = z.infer<typeof WorkerWaitResponse>;

// ---------------------------------------------------------------------------------------------
// GET …/continue?waitMs= (long-poll)

export const WorkerContinueQuery = z.object({
  waitMs: z.coerce.number().int().min(0).max(WORKER_PROTOCOL_LIMITS.maxWaitMs).default(0),
});
export type WorkerContinueQuery = z.infer<typeof WorkerContinueQuery>;

export const WorkerWaitpointType = z.enum(["RUN", "DATETIME", "MANUAL", "BATCH"]);

export const WorkerCompletedWaitpoint = z.object({
  id: z.string(),
  friendlyId: z.string(),
  type: WorkerWaitpointType,
  /** Serialized packet; for a failed child run the JSON of its WorkerTaskRunError. */
  output: optionalString,
  outputType: z
    .string()
    .nullish()
    .transform((v) => v ?? "application/json"),
  outputIsError: z.boolean().default(false),
  /** Batch item index for RUN waitpoints of a batchTriggerAndWait. */
  index: optionalInt,
  /** Optional: the friendly id of the run that completed a RUN waitpoint. */
  completedByTaskRunId: optionalString,
  /** Optional: the friendly id of the batch that completed a BATCH waitpoint. */
  completedByBatchId: optionalString,
});
export type WorkerCompletedWaitpoint = z.infer<typeof WorkerCompletedWaitpoint>;
export type WorkerCompletedWaitpointInput = z.input<typeof WorkerCompletedWaitpoint>;

export const WorkerContinueResponse = z.discriminatedUnion("status", [
  z.object({ status: z.literal("waiting") }),
  z.object({
    status: z.literal("resumed"),
    snapshotId: z.string(),
    completedWaitpoints: z.array(WorkerCompletedWaitpoint),
  }),
  z.object({ status: z.literal("cancelled"), snapshotId: z.string() }),
  /** The attempt is no longer the run's current one (it was retried or finished without it): stop, post nothing. */
  z.object({ status: z.literal("superseded") }),
]);
export type WorkerContinueResponse = z.infer<typeof WorkerContinueResponse>;
export type WorkerContinueResponseInput = z.input<typeof WorkerContinueResponse>;
