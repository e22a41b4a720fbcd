import type { z } from "zod";
import type { RedisConnectionOptions } from "../redis.js";
import type { JobQueue } from "./jobQueue.js";

/** One job kind: its payload schema and optional per-kind overrides of the worker settings. */
export type JobDefinition<S extends z.ZodTypeAny = z.ZodTypeAny> = {
  schema: S;
  /** How long a claimed job stays invisible before another worker may reclaim it. */
  visibilityTimeoutMs?: number;
  /** Attempts before the job is dead-lettered. */
  maxAttempts?: number;
};

export type JobCatalog = Record<string, JobDefinition>;
export type JobName<C extends JobCatalog> = keyof C & string;
export type JobPayloadInput<C extends JobCatalog, K extends JobName<C>> = z.input<C[K]["schema"]>;
export type JobPayload<C extends JobCatalog, K extends JobName<C>> = z.output<C[K]["schema"]>;

export type EnqueueJob<C extends JobCatalog, K extends JobName<C> = JobName<C>> = {
  /** Job identity: a later `enqueue` with the same id replaces it, `enqueueOnce` keeps the first. */
  id: string;
  job: K;
  payload: JobPayloadInput<C, K>;
  /** When it becomes due (Date or epoch ms). Default now. */
  availableAt?: Date | number;
};

export type JobQueueOptions<C extends JobCatalog> = {
  /** Queue name; part of every key. */
  name: string;
  redis: RedisConnectionOptions;
  catalog: C;
  /** Namespace for keys, after the connection's own `keyPrefix`. Default `worker:`. */
  keyPrefix?: string;
};

export type ScheduledJob = {
  id: string;
  job: string;
  payload: unknown;
  availableAt: number;
  /** Claims so far (a claim whose worker died counts). */
  attempts: number;
  claimed: boolean;
  lastError?: string;
};

export type DeadLetter = {
  id: string;
  job: string;
  payload: unknown;
  attempts: number;
  error: string;
  failedAt: number;
};

export type BackoffOptions = { minMs: number; maxMs: number; factor: number; jitter?: boolean };

export type JobContext = { id: string; job: string; attempt: number; signal: AbortSignal };

export type JobHandlers<C extends JobCatalog> = {
  [K in JobName<C>]: (payload: JobPayload<C, K>, context: JobContext) => Promise<void>;
};

export type JobWorkerOptions<C extends JobCatalog> = {
  queue: JobQueue<C>;
  /** Name for logs and the loop. Default `<queue name>-worker`. */
  name?: string;
  handlers: JobHandlers<C>;
  /** Jobs run at once by this worker. Default 10. */
  concurrency?: number;
  /** Pause between claims when nothing was due. Default 100 ms. */
  pollIntervalMs?: number;
  /** Default 30000 ms; a kind's `visibilityTimeoutMs` wins. */
  visibilityTimeoutMs?: number;
  /** Default 12; a kind's `maxAttempts` wins. */
  maxAttempts?: number;
  /** Delay before retry n: min(maxMs, minMs × factor^(n−1)), ×[1,2) with jitter. Default 1000/60000/2, jitter. */
  backoff?: BackoffOptions;
  onError?: (error: unknown, job?: { id: string; job: string }) => void;
};
