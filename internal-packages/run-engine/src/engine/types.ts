import type { ControlPlaneResolver, ResolvedEnvironment } from "@internal/database/resolver";
import type { RunStore, TaskRun, TaskRunExecutionStatus, TaskRunStatus, Waitpoint } from "@internal/run-store";
import type { MintKind } from "@runplane/core";
import type { RedisOptions } from "ioredis";
import type { TaskRunErrorShape } from "../eventBus/index.js";
import type { ResolvedRetryPolicy } from "../retry/index.js";

/** The environment a run belongs to: what the resolver returns (extra fields are ignored). */
export type EngineEnvironment = Pick<ResolvedEnvironment, "id" | "type" | "projectId" | "organizationId"> &
  Partial<Pick<ResolvedEnvironment, "slug" | "maximumConcurrencyLimit" | "paused" | "archivedAt">>;

export type HeartbeatTimeouts = {
  PENDING_EXECUTING: number;
  EXECUTING: number;
  EXECUTING_WITH_WAITPOINTS: number;
  PENDING_CANCEL: number;
  SUSPENDED: number;
};

export type RunEngineOptions = {
  runStore: RunStore;
  resolver: ControlPlaneResolver;
  /** ioredis options (tests pass a unique keyPrefix) or a URL. */
  redis: RedisOptions | string;
  /** Extra options handed to the RunQueue (shards, default env concurrency, …). */
  runQueue?: Record<string, unknown>;
  /** One number for every state, or per state. Defaults: 60 s, SUSPENDED 10 min. */
  heartbeatTimeoutMs?: number | Partial<HeartbeatTimeouts>;
  /** Id family minted for runs whose caller gave no friendly id and no parent. Default LEGACY. */
  mintKind?: MintKind;
  /** Retry settings when the task registered none. */
  retryDefaults?: Partial<ResolvedRetryPolicy>;
  /** Failures whose retry delay is below this restart on the same worker (RETRY_IMMEDIATELY). Default 0: always requeue. */
  retryWarmStartThresholdMs?: number;
  /** Caps (and fills, when set) a run's ttl. */
  defaultMaxTtl?: string;
  /** Background workers: polling, concurrency. */
  worker?: {
    pollIntervalMs?: number;
    concurrency?: number;
    ttlSweepIntervalMs?: number;
    waitpointSweepIntervalMs?: number;
    /** Queue-repair sweep (runs left without a queue message): every 30 s by default, 0 disables. */
    queueRepairIntervalMs?: number;
    /** Runs waiting less than this are left to their own enqueue (default 60 s). */
    queueRepairMinAgeMs?: number;
  };
  /** Default idempotency key lifetime. 30 days. */
  idempotencyKeyTtlMs?: number;
  logger?: EngineLogger;
  /**
   * Test-only crash hook, called with the name of a point between a Postgres and a Redis write
   * (`block:afterTransition`). Crash tests kill the process there; leave unset otherwise.
   */
  failpoint?: (name: string) => void;
  /** Prefix for every Redis key the engine writes (queue, locks, jobs). Default "engine:". */
  keyPrefix?: string;
};

export type EngineLogger = {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
};

export type IdempotencyKeyOptions = { key: string; scope: "run" | "attempt" | "global" };

export type TriggerInput = {
  taskIdentifier: string;
  environment: EngineEnvironment;
  /** `run_<id>`; minted when absent (parent's id shape, else `mintKind`). */
  friendlyId?: string;
  payload: string;
  payloadType?: string;
  context?: unknown;
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  /** Default `task/<taskIdentifier>`. */
  queue?: string;
  lockedQueueId?: string;
  workerQueue?: string;
  concurrencyKey?: string;
  delayUntil?: Date;
  /** Duration string ("10m") or seconds. Expires the run if it has not started by then. */
  ttl?: string | number;
  tags?: string[];
  metadata?: string;
  metadataType?: string;
  maxAttempts?: number;
  /** Seconds; reorders within the environment. */
  priority?: number;
  idempotencyKey?: string;
  idempotencyKeyExpiresAt?: Date;
  idempotencyKeyOptions?: IdempotencyKeyOptions;
  parentRunId?: string;
  resumeParentOnCompletion?: boolean;
  rootTaskRunId?: string;
  depth?: number;
  batch?: { id: string; index: number };
  isTest?: boolean;
  /** A worker version ("20250101.1") the run must execute on. */
  lockToVersion?: string;
  machine?: string;
  /** Seconds. */
  maxDuration?: number;
  replayedFrom?: string;
  queueTimestamp?: Date;
  annotations?: Record<string, unknown>;
  createdAt?: Date;
};

export type TriggerResult = { run: TaskRun; isCached: boolean };

export type DequeuedRun = {
  runId: string;
  runFriendlyId: string;
  snapshotId: string;
  snapshotFriendlyId: string;
  attemptNumber: number;
  taskIdentifier: string;
  environmentId: string;
  workerId: string;
  workerVersion: string;
  /** Waitpoints completed while the run was queued (resume after suspension). */
  completedWaitpoints: CompletedWaitpoint[];
};

export type ExecutionContext = {
  run: {
    id: string;
    internalId: string;
    payload: string;
    payloadType: string;
    tags: string[];
    isTest: boolean;
    createdAt: Date;
    startedAt: Date | null;
    idempotencyKey: string | null;
    maxAttempts: number | null;
    version: string | null;
    metadata: string | null;
    metadataType: string;
    maxDuration: number | null;
    priority: number;
    concurrencyKey: string | null;
    parentTaskRunId: string | null;
    rootTaskRunId: string | null;
    depth: number;
  };
  attempt: { number: number; startedAt: Date };
  task: { id: string; filePath: string; exportName: string | null };
  queue: { id: string | null; name: string };
  environment: { id: string; slug: string; type: string };
  organization: { id: string; slug: string; name: string };
  project: { id: string; ref: string; slug: string; name: string };
  machine: { name: string };
  batch?: { id: string };
};

export type StartAttemptResult = { snapshotId: string; snapshotFriendlyId: string; execution: ExecutionContext };

export type CompletionInput =
  | { ok: true; output?: string; outputType?: string; usageDurationMs?: number; metadata?: string; metadataType?: string }
  | {
      ok: false;
      error: CompletionError;
      skipRetrying?: boolean;
      /** A retry the runner computed; the engine uses its own policy when absent. */
      retry?: { delayMs: number };
      usageDurationMs?: number;
    };

/** What a worker reports: the SDK's TaskRunError shapes, or a loose `{type, name?, message, stackTrace?}`. */
export type CompletionError =
  | TaskRunErrorShape
  | { type: string; name?: string; message?: string; stackTrace?: string; raw?: string; code?: string };

export type AttemptStatus = "RUN_FINISHED" | "RETRY_QUEUED" | "RETRY_IMMEDIATELY" | "RUN_PENDING_CANCEL";

export type CompleteAttemptResult = {
  attemptStatus: AttemptStatus;
  snapshotId: string;
  snapshotFriendlyId: string;
  runStatus: TaskRunStatus;
  retryAt?: Date;
};

export type CompletedWaitpoint = {
  id: string;
  friendlyId: string;
  type: Waitpoint["type"];
  completedAt: Date | null;
  index?: number;
  completedByTaskRun?: { id: string; friendlyId: string; batch?: { id: string; friendlyId: string } };
  completedByBatch?: { id: string; friendlyId: string };
  completedAfter?: Date;
  output?: string;
  outputType: string;
  outputIsError: boolean;
  idempotencyKey?: string;
};

export type BlockResult = {
  snapshotId: string;
  snapshotFriendlyId: string;
  executionStatus: TaskRunExecutionStatus;
  waitpointIds: string[];
  /**
   * The EXECUTING_WITH_WAITPOINTS snapshot of this block. Differs from `snapshotId` when every waitpoint
   * was already completed and the run was continued at once (then `snapshotId` is the EXECUTING one).
   */
  blockedSnapshotId: string;
  blockedSnapshotFriendlyId: string;
};

/**
 * The worker protocol's `continue` (apps/webapp/docs/worker-protocol.md §8), from a snapshot the worker
 * waits from, which need not be the latest.
 */
export type ContinueFromResult =
  | { status: "waiting" }
  | { status: "resumed"; snapshotId: string; snapshotFriendlyId: string; completedWaitpoints: CompletedWaitpoint[] }
  | { status: "cancelled"; snapshotId: string; snapshotFriendlyId: string }
  /** The asking attempt is no longer the run's current one: another attempt runs, or the run finished. */
  | { status: "superseded" };

export type WaitpointResult = { waitpoint: Waitpoint; isCached: boolean };
