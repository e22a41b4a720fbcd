import { z } from "zod";
import type { RedisConnectionOptions } from "@runplane/redis-worker/redis";

/**
 * Public contract of the run queue. Signatures here are stable: extend by adding optional fields or
 * new methods, never by changing what exists.
 */

export const EnvironmentTypeSchema = z.enum(["PRODUCTION", "STAGING", "DEVELOPMENT", "PREVIEW"]);
export type EnvironmentType = z.infer<typeof EnvironmentTypeSchema>;

/** What the engine hands the queue for one run. `timestamp` (ms) orders the queue; `priorityMs` moves it earlier. */
export const QueueMessageSchema = z.object({
  runId: z.string().min(1),
  orgId: z.string().min(1),
  projectId: z.string().min(1),
  environmentId: z.string().min(1),
  environmentType: EnvironmentTypeSchema,
  /** Queue name inside the environment, e.g. `task/my-task`. */
  queue: z.string().min(1).max(256),
  /** Runs sharing a key form a sub-queue; the queue's limit applies to each key separately. Empty/null = no key. */
  concurrencyKey: z.string().max(512).nullish(),
  taskIdentifier: z.string(),
  priorityMs: z.number().int().default(0),
  timestamp: z.number().int(),
  /** Requeue counter; `nackMessage` increments it and dead-letters once it reaches the limit. */
  attempt: z.number().int().min(0).default(0),
  /** Epoch ms after which a still-queued message is returned by `popExpiredMessages`. */
  ttlExpiresAt: z.number().int().nullish(),
});
export type QueueMessageInput = z.input<typeof QueueMessageSchema>;
export type QueueMessage = z.output<typeof QueueMessageSchema>;

export type MessageState = "queued" | "in_progress";

export type PeekedMessage = QueueMessage & {
  state: MessageState;
  /** Queue score while queued: due when `score <= now`. */
  score?: number;
  /** Set while in progress. */
  consumerId?: string;
  dequeuedAt?: number;
  /** In progress and counted against env/queue/key limits (false after `releaseConcurrency`). */
  holdsConcurrency: boolean;
};

/** `enqueued` new message; `replaced` an existing one (only with `replace`); `duplicate` the run already had one (left as is). */
export type EnqueueResult = "enqueued" | "replaced" | "duplicate";

export type EnqueueOptions = {
  /**
   * Replace an existing message for the run, queued or in progress (its concurrency is freed) with this one.
   * Default false: enqueue is idempotent per runId and keeps the existing message.
   */
  replace?: boolean;
};

export type DequeueOptions = {
  /** Only this environment (dev long-poll). Omitted: round robin across all environments. */
  environmentId?: string;
  consumerId: string;
  maxCount: number;
};

export type NackOptions = {
  /** Epoch ms before which the message is not dequeued again. Default: now + exponential backoff on `attempt`. */
  retryAt?: number;
  /** Overrides the queue's `maxNackAttempts` for this call. */
  maxAttempts?: number;
};

/** `requeued`: back in its queue; `dead_lettered`: attempts exhausted, removed and recorded in the env DLQ; `not_found`: no in-progress message. */
export type NackResult = "requeued" | "dead_lettered" | "not_found";

export type ReacquireOptions = {
  /** Take the slot even when it would exceed the env/queue/key limit. */
  force?: boolean;
};

export type ReleaseOptions = {
  /**
   * The run blocks on a waitpoint: the env slot is freed, the queue and key slots too unless the
   * queue keeps them (`updateQueueReleaseOnWaitpoint(…, false)`). Default: free every slot.
   */
  onWaitpoint?: boolean;
};

/**
 * `ok`: the run holds its slots again; `queued`: no room, it waits at the head of its sub-queue and a
 * dequeue hands it out (with its slots) later; `missing`: the run has no message.
 */
export type ContinueResult = "ok" | "queued" | "missing";

/** Members of the env running SET and of every queue / concurrency-key running SET of the env (non-empty only). */
export type HeldSlots = { env: string[]; queueAndKeySets: Record<string, string[]> };

export type KeyLimitOverride = { limit: number; expiresAt: Date };

export type QueueRunStates = { executing: number; blocked: number; continuing: number };
/** environmentId → its type and, per queue, how many runs execute or wait (see `runStateCounts`). */
export type RunStateCounts = Map<string, { environmentType: string; queues: Map<string, QueueRunStates> }>;

export type InProgressPage = {
  /** "0" when the scan is complete. */
  cursor: string;
  runs: Array<{ runId: string; environmentId: string; holdsEnvSlot: boolean }>;
};

export type ConcurrencyScope = {
  environmentId: string;
  queue?: string;
  /** With `queue`: only runs of this concurrency key. */
  concurrencyKey?: string | null;
};

export type EnvConcurrencyOptions = {
  /** The env may run floor(limit × burstFactor) at once; queue limits are capped by the base limit. Default 1. */
  burstFactor?: number;
};

export type NackBackoffOptions = { minMs: number; maxMs: number; factor: number };

export type RunQueueOptions = {
  /** Connection options or URL, passed to the one connection factory (`createRedisClient`). */
  redis: RedisConnectionOptions;
  /** Namespace for every key, after the connection's own `keyPrefix`. Default `runqueue:`. */
  keyPrefix?: string;
  /** Env limit when none was set with `updateEnvConcurrencyLimit`. Default 10. */
  defaultEnvConcurrencyLimit?: number;
  /** Nacks before a message is dead-lettered. Default 12. */
  maxNackAttempts?: number;
  /** Delay for `nackMessage` without `retryAt`. Default 1000 ms × 2^(attempt−1), ≤ 3600000 ms, ×[1,2) jitter. */
  nackBackoff?: NackBackoffOptions;
  /** Upper bound on environments considered per global dequeue. Default 200. */
  envScanLimit?: number;
  /** Upper bound on queues (or keys of one queue) considered per environment per dequeue. Default 100. */
  queueScanLimit?: number;
};

export interface RunQueueApi {
  enqueueMessage(message: QueueMessageInput, options?: EnqueueOptions): Promise<EnqueueResult>;
  /** Atomically moves up to `maxCount` due messages to in progress, within limits, fairly. */
  dequeue(options: DequeueOptions): Promise<QueueMessage[]>;
  /** Removes the message (queued or in progress) and frees its concurrency. False if there was none. */
  acknowledgeMessage(runId: string): Promise<boolean>;
  /** Puts an in-progress message back in its queue (attempt + 1, TTL dropped) and frees its concurrency. */
  nackMessage(runId: string, options?: NackOptions): Promise<NackResult>;
  /** Frees the run's concurrency slots (or a waiting run's, see ReleaseOptions); the message stays in progress. */
  releaseConcurrency(runId: string, options?: ReleaseOptions): Promise<boolean>;
  /** A blocked run resumes: its slots back within every limit, or a place ahead of new runs in its sub-queue. */
  continueRun(runId: string): Promise<ContinueResult>;
  /** Whether the queue's runs give their queue and key slots back while they wait (default true). */
  updateQueueReleaseOnWaitpoint(environmentId: string, queue: string, release: boolean): Promise<void>;
  /** Who holds slots in the env: an operator's (and the no-leak tests') view. */
  heldSlots(environmentId: string): Promise<HeldSlots>;
  /** Runs executing, blocked on waitpoints and queued to continue, per environment and queue. */
  runStateCounts(environmentId?: string): Promise<RunStateCounts>;
  /** Pages through in-progress messages (HSCAN cursor), with whether each holds its env slot. */
  scanInProgress(cursor: string, count: number): Promise<InProgressPage>;
  /** Takes the slots back. False when the run is not in progress, or a limit is full (without `force`). */
  reacquireConcurrency(runId: string, options?: ReacquireOptions): Promise<boolean>;
  /** Removes a queued (not in-progress) message, e.g. on cancel. False if it was not queued. */
  removeMessage(runId: string): Promise<boolean>;
  /** `null` removes the queue's own limit (env limit only). */
  updateQueueConcurrencyLimit(environmentId: string, queue: string, limit: number | null): Promise<void>;
  /** Caps the runs of every concurrency key of the queue together; `null` removes the cap. */
  updateQueueTotalLimit(environmentId: string, queue: string, total: number | null): Promise<void>;
  /** One concurrency key's own limit instead of the queue's (env-clamped), lapsing after `ttlMs`. */
  overrideKeyConcurrencyLimit(environmentId: string, queue: string, concurrencyKey: string, limit: number, ttlMs: number): Promise<void>;
  /** Drops a key's own limit: it has the queue's again. */
  resetKeyConcurrencyLimit(environmentId: string, queue: string, concurrencyKey: string): Promise<void>;
  /** The key's own limit and when it lapses, or null when it has none (never set, reset or lapsed). */
  keyConcurrencyLimit(environmentId: string, queue: string, concurrencyKey: string): Promise<KeyLimitOverride | null>;
  updateEnvConcurrencyLimit(environmentId: string, limit: number, options?: EnvConcurrencyOptions): Promise<void>;
  pauseQueue(environmentId: string, queue: string): Promise<void>;
  resumeQueue(environmentId: string, queue: string): Promise<void>;
  pauseEnvironment(environmentId: string): Promise<void>;
  resumeEnvironment(environmentId: string): Promise<void>;
  /** Queued messages (due or not) of a queue, across its concurrency keys unless one is given. */
  lengthOfQueue(environmentId: string, queue: string, concurrencyKey?: string | null): Promise<number>;
  /** Runs holding concurrency in the env, a queue, or one key of a queue. */
  currentConcurrency(scope: ConcurrencyScope): Promise<number>;
  peekMessage(runId: string): Promise<PeekedMessage | undefined>;
  /** Atomically removes up to `limit` queued messages whose `ttlExpiresAt <= now`; returns their run ids. */
  popExpiredMessages(now: number, limit: number): Promise<string[]>;
  /**
   * Resolves true as soon as a dequeue in the env (or anywhere, without env) may succeed, false after
   * `timeoutMs`. Use between an empty dequeue and the next attempt instead of polling.
   */
  waitForMessages(environmentId: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Closes the queue's Redis connections. */
  close(): Promise<void>;
}
