import type { Redis } from "ioredis";
import { createRedisClient } from "@runplane/redis-worker/redis";
import { RunQueueKeys } from "./keys.js";
import { decodeMessage, identityOf, normalizeMessage, type StoredMessage } from "./messageCodec.js";
import { DequeuePlanner } from "./planner.js";
import { QueueSignals } from "./signals.js";
import { acknowledgeMessageScript } from "./scripts/acknowledgeMessage.js";
import { dequeueMessagesScript } from "./scripts/dequeueMessages.js";
import { enqueueMessageScript } from "./scripts/enqueueMessage.js";
import { expireMessagesScript, type ExpiryCandidate } from "./scripts/expireMessages.js";
import { nackMessageScript } from "./scripts/nackMessage.js";
import { reacquireConcurrencyScript } from "./scripts/reacquireConcurrency.js";
import { releaseConcurrencyScript } from "./scripts/releaseConcurrency.js";
import { CONTINUE_AHEAD_MS, continueMessageScript } from "./scripts/continueMessage.js";
import { removeMessageScript } from "./scripts/removeMessage.js";
import type {
  ConcurrencyScope,
  ContinueResult,
  RunStateCounts,
  HeldSlots,
  InProgressPage,
  KeyLimitOverride,
  DequeueOptions,
  EnqueueOptions,
  EnqueueResult,
  EnvConcurrencyOptions,
  NackBackoffOptions,
  NackOptions,
  NackResult,
  PeekedMessage,
  QueueMessage,
  QueueMessageInput,
  ReacquireOptions,
  ReleaseOptions,
  RunQueueApi,
  RunQueueOptions,
} from "./types.js";

const DEFAULT_BACKOFF: NackBackoffOptions = { minMs: 1000, maxMs: 3_600_000, factor: 2 };
/** A script answered "stale" when the message changed between our read and the script: read again. */
const MAX_STALE_RETRIES = 20;

/**
 * The run queue: all state in Redis, every mutation one Lua script, so any number of webapp
 * instances can share it. See keys.ts for the layout and scripts/ for each operation.
 */
export class RunQueue implements RunQueueApi {
  readonly keys: RunQueueKeys;
  private readonly redis: Redis;
  private readonly defaultEnvLimit: number;
  private readonly maxNackAttempts: number;
  private readonly backoff: NackBackoffOptions;
  private readonly planner: DequeuePlanner;
  private readonly signals: QueueSignals;
  private readonly scripts;

  constructor(readonly options: RunQueueOptions) {
    this.redis = createRedisClient(options.redis, "run-queue");
    this.keys = new RunQueueKeys(options.keyPrefix ?? "runqueue:");
    this.defaultEnvLimit = options.defaultEnvConcurrencyLimit ?? 10;
    this.maxNackAttempts = options.maxNackAttempts ?? 12;
    this.backoff = options.nackBackoff ?? DEFAULT_BACKOFF;
    this.planner = new DequeuePlanner(this.redis, this.keys, {
      defaultEnvLimit: this.defaultEnvLimit,
      envScanLimit: options.envScanLimit ?? 200,
      queueScanLimit: options.queueScanLimit ?? 100,
    });
    const connectionPrefix = this.redis.options.keyPrefix ?? "";
    this.signals = new QueueSignals(
      this.redis,
      () => createRedisClient(options.redis, "run-queue-signals"),
      (envId) => connectionPrefix + this.keys.signalChannel(envId),
    );
    this.scripts = {
      enqueue: enqueueMessageScript(this.redis, this.keys),
      dequeue: dequeueMessagesScript(this.redis, this.keys, this.defaultEnvLimit),
      acknowledge: acknowledgeMessageScript(this.redis, this.keys),
      nack: nackMessageScript(this.redis, this.keys),
      release: releaseConcurrencyScript(this.redis, this.keys),
      reacquire: reacquireConcurrencyScript(this.redis, this.keys, this.defaultEnvLimit),
      continue: continueMessageScript(this.redis, this.keys, this.defaultEnvLimit),
      remove: removeMessageScript(this.redis, this.keys),
      expire: expireMessagesScript(this.redis, this.keys),
    };
  }

  async enqueueMessage(input: QueueMessageInput, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const message = normalizeMessage(input);
    const replace = options.replace === true;
    for (let i = 0; i < MAX_STALE_RETRIES; i++) {
      const existing = replace ? await this.read(message.runId) : undefined;
      const result = await this.scripts.enqueue(message, replace, existing);
      if (result === "stale") continue;
      if (result !== "duplicate") await this.notify(message.environmentId);
      return result;
    }
    throw staleError("enqueueMessage", message.runId);
  }

  async dequeue({ environmentId, consumerId, maxCount }: DequeueOptions): Promise<QueueMessage[]> {
    if (maxCount <= 0) return [];
    const now = Date.now();
    const plan = await this.planner.plan(now, environmentId, maxCount);
    if (plan.length === 0) return [];
    const raw = await this.scripts.dequeue(plan, consumerId, maxCount, now);
    return raw.map(decodeMessage);
  }

  async acknowledgeMessage(runId: string): Promise<boolean> {
    const result = await this.withMessage(runId, "acknowledgeMessage", (stored) => this.scripts.acknowledge(stored));
    if (result.outcome !== "ok") return false;
    await this.notify(result.message!.environmentId);
    return true;
  }

  async nackMessage(runId: string, options: NackOptions = {}): Promise<NackResult> {
    const result = await this.withMessage(runId, "nackMessage", (stored) => {
      const now = Date.now();
      const retryAt = options.retryAt ?? now + this.backoffDelay(stored.message.attempt + 1);
      return this.scripts.nack(stored, retryAt, options.maxAttempts ?? this.maxNackAttempts, now);
    });
    if (result.outcome === "requeued" || result.outcome === "dead_lettered") {
      await this.notify(result.message!.environmentId);
      return result.outcome;
    }
    return "not_found";
  }

  async releaseConcurrency(runId: string, options: ReleaseOptions = {}): Promise<boolean> {
    const mode = options.onWaitpoint ? "waitpoint" : "all";
    const result = await this.withMessage(runId, "releaseConcurrency", (stored) => this.scripts.release(stored, mode));
    if (result.outcome !== "ok") return false;
    await this.notify(result.message!.environmentId);
    return true;
  }

  async reacquireConcurrency(runId: string, options: ReacquireOptions = {}): Promise<boolean> {
    const result = await this.withMessage(runId, "reacquireConcurrency", (stored) =>
      this.scripts.reacquire(stored, options.force === true),
    );
    return result.outcome === "ok";
  }

  async continueRun(runId: string): Promise<ContinueResult> {
    const result = await this.withMessage(runId, "continueRun", (stored) => this.scripts.continue(stored));
    if (result.outcome === "queued") await this.notify(result.message!.environmentId);
    return result.outcome;
  }

  async removeMessage(runId: string): Promise<boolean> {
    const result = await this.withMessage(runId, "removeMessage", (stored) => this.scripts.remove(stored));
    return result.outcome === "ok";
  }

  async updateQueueConcurrencyLimit(environmentId: string, queue: string, limit: number | null): Promise<void> {
    const key = this.keys.queueMeta(environmentId, queue);
    if (limit === null) await this.redis.hdel(key, "limit");
    else await this.redis.hset(key, "limit", Math.max(0, Math.floor(limit)));
    await this.notify(environmentId);
  }

  async updateQueueTotalLimit(environmentId: string, queue: string, total: number | null): Promise<void> {
    const key = this.keys.queueMeta(environmentId, queue);
    if (total === null) await this.redis.hdel(key, "total");
    else await this.redis.hset(key, "total", Math.max(0, Math.floor(total)));
    await this.notify(environmentId);
  }

  async overrideKeyConcurrencyLimit(environmentId: string, queue: string, concurrencyKey: string, limit: number, ttlMs: number): Promise<void> {
    const key = this.keys.keyLimit(environmentId, queue, concurrencyKey);
    await this.redis.set(key, Math.max(0, Math.floor(limit)), "PX", Math.max(1, Math.floor(ttlMs)));
    await this.notify(environmentId);
  }

  async resetKeyConcurrencyLimit(environmentId: string, queue: string, concurrencyKey: string): Promise<void> {
    await this.redis.del(this.keys.keyLimit(environmentId, queue, concurrencyKey));
    await this.notify(environmentId);
  }

  async keyConcurrencyLimit(environmentId: string, queue: string, concurrencyKey: string): Promise<KeyLimitOverride | null> {
    const key = this.keys.keyLimit(environmentId, queue, concurrencyKey);
    const [[, limit], [, pttl]] = (await this.redis.pipeline().get(key).pttl(key).exec()) as Array<[unknown, unknown]>;
    if (limit === null || typeof pttl !== "number" || pttl < 0) return null;
    return { limit: Number(limit), expiresAt: new Date(Date.now() + pttl) };
  }

  async updateEnvConcurrencyLimit(environmentId: string, limit: number, options: EnvConcurrencyOptions = {}): Promise<void> {
    const fields: Record<string, number> = { limit: Math.max(0, Math.floor(limit)) };
    if (options.burstFactor !== undefined) fields.burst = Math.max(1, options.burstFactor);
    await this.redis.hset(this.keys.envMeta(environmentId), fields);
    await this.notify(environmentId);
  }

  async updateQueueReleaseOnWaitpoint(environmentId: string, queue: string, release: boolean): Promise<void> {
    const key = this.keys.queueMeta(environmentId, queue);
    if (release) await this.redis.hdel(key, "releaseOnWaitpoint");
    else await this.redis.hset(key, "releaseOnWaitpoint", "0");
  }

  async queueReleasesOnWaitpoint(environmentId: string, queue: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.queueMeta(environmentId, queue), "releaseOnWaitpoint")) !== "0";
  }

  /** The queue's own limit (null: env limit only), total cap (null: none) and pause flag as the queue enforces them. */
  async queueSettings(environmentId: string, queue: string): Promise<{ limit: number | null; total: number | null; paused: boolean }> {
    const [limit, paused, total] = await this.redis.hmget(this.keys.queueMeta(environmentId, queue), "limit", "paused", "total");
    return { limit: limit === null ? null : Number(limit), total: total === null ? null : Number(total), paused: paused === "1" };
  }

  async envConcurrencyLimit(environmentId: string): Promise<number> {
    const limit = await this.redis.hget(this.keys.envMeta(environmentId), "limit");
    return limit === null ? this.defaultEnvLimit : Number(limit);
  }

  async heldSlots(environmentId: string): Promise<HeldSlots> {
    // SCAN patterns are not prefixed by ioredis: add the connection's keyPrefix, strip it from the answers.
    const connectionPrefix = this.redis.options.keyPrefix ?? "";
    const pattern = `${connectionPrefix}${this.keys.queue(environmentId, "*")}`;
    const keyPrefixLength = connectionPrefix.length;
    const queueSets: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await this.redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      for (const key of found) if (/:(running|ckrun:[^:]*)$/.test(key)) queueSets.push(key.slice(keyPrefixLength));
    } while (cursor !== "0");
    const env = await this.redis.smembers(this.keys.envRunning(environmentId));
    const sets: Record<string, string[]> = {};
    for (const key of queueSets.sort()) {
      const members = await this.redis.smembers(key);
      if (members.length > 0) sets[key] = members;
    }
    return { env, queueAndKeySets: sets };
  }

  async scanInProgress(cursor: string, count: number): Promise<InProgressPage> {
    const [next, flat] = await this.redis.hscan(this.keys.inflight(), cursor, "COUNT", count);
    const runIds = flat.filter((_, i) => i % 2 === 0);
    if (runIds.length === 0) return { cursor: next, runs: [] };
    const raws = await this.redis.hmget(this.keys.messages(), ...runIds);
    const runs: InProgressPage["runs"] = [];
    for (let i = 0; i < runIds.length; i++) {
      const raw = raws[i];
      if (!raw) continue;
      const message = decodeMessage(raw);
      const holds = await this.redis.sismember(this.keys.envRunning(message.environmentId), runIds[i]);
      runs.push({ runId: runIds[i], environmentId: message.environmentId, holdsEnvSlot: holds === 1 });
    }
    return { cursor: next, runs };
  }

  /**
   * Per environment and queue: runs `executing` (holding their env slot), `blocked` (in progress,
   * blocked on waitpoints, no env slot) and `continuing` (waitpoints done, queued ahead of new runs for
   * a slot). Scans every in-progress message: for dashboards and metrics scrapes, not hot paths.
   */
  async runStateCounts(environmentId?: string): Promise<RunStateCounts> {
    const out: RunStateCounts = new Map();
    const bump = (envId: string, environmentType: string, queue: string, field: "executing" | "blocked" | "continuing") => {
      let env = out.get(envId);
      if (!env) out.set(envId, (env = { environmentType, queues: new Map() }));
      const counts = env.queues.get(queue) ?? { executing: 0, blocked: 0, continuing: 0 };
      counts[field]++;
      env.queues.set(queue, counts);
    };
    let cursor = "0";
    do {
      const [next, flat] = await this.redis.hscan(this.keys.inflight(), cursor, "COUNT", 500);
      cursor = next;
      const runIds = flat.filter((_, i) => i % 2 === 0);
      if (runIds.length === 0) continue;
      const raws = await this.redis.hmget(this.keys.messages(), ...runIds);
      for (let i = 0; i < runIds.length; i++) {
        const raw = raws[i];
        if (!raw) continue;
        const m = decodeMessage(raw);
        if (environmentId !== undefined && m.environmentId !== environmentId) continue;
        const holds = (await this.redis.sismember(this.keys.envRunning(m.environmentId), runIds[i])) === 1;
        bump(m.environmentId, m.environmentType, m.queue, holds ? "executing" : "blocked");
      }
    } while (cursor !== "0");
    const envIds = environmentId !== undefined ? [environmentId] : await this.redis.zrange(this.keys.envs(), 0, -1);
    const continueBelow = Date.now() - CONTINUE_AHEAD_MS / 2;
    for (const envId of envIds) {
      for (const queue of await this.redis.zrange(this.keys.envQueues(envId), 0, -1)) {
        for (const ck of await this.redis.zrange(this.keys.queueSubs(envId, queue), 0, -1)) {
          const continuing = await this.redis.zrangebyscore(this.keys.subQueue(envId, queue, ck), "-inf", continueBelow);
          if (continuing.length === 0) continue;
          const raws = await this.redis.hmget(this.keys.messages(), ...continuing);
          for (const raw of raws) if (raw) bump(envId, decodeMessage(raw).environmentType, queue, "continuing");
        }
      }
    }
    return out;
  }

  async pauseQueue(environmentId: string, queue: string): Promise<void> {
    await this.redis.hset(this.keys.queueMeta(environmentId, queue), "paused", "1");
  }

  async resumeQueue(environmentId: string, queue: string): Promise<void> {
    await this.redis.hdel(this.keys.queueMeta(environmentId, queue), "paused");
    await this.notify(environmentId);
  }

  async pauseEnvironment(environmentId: string): Promise<void> {
    await this.redis.hset(this.keys.envMeta(environmentId), "paused", "1");
  }

  async resumeEnvironment(environmentId: string): Promise<void> {
    await this.redis.hdel(this.keys.envMeta(environmentId), "paused");
    await this.notify(environmentId);
  }

  async lengthOfQueue(environmentId: string, queue: string, concurrencyKey?: string | null): Promise<number> {
    if (concurrencyKey !== undefined) {
      return this.redis.zcard(this.keys.subQueue(environmentId, queue, concurrencyKey ?? ""));
    }
    const cks = await this.redis.zrange(this.keys.queueSubs(environmentId, queue), 0, -1);
    const counts = await Promise.all(cks.map((ck) => this.redis.zcard(this.keys.subQueue(environmentId, queue, ck))));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async currentConcurrency({ environmentId, queue, concurrencyKey }: ConcurrencyScope): Promise<number> {
    if (queue === undefined) return this.redis.scard(this.keys.envRunning(environmentId));
    if (concurrencyKey === undefined) return this.redis.scard(this.keys.queueRunning(environmentId, queue));
    return this.redis.scard(this.keys.subRunning(environmentId, queue, concurrencyKey ?? ""));
  }

  async peekMessage(runId: string): Promise<PeekedMessage | undefined> {
    const stored = await this.read(runId);
    if (!stored) return undefined;
    const identity = identityOf(stored.message);
    const [inflight, score, holds] = await Promise.all([
      this.redis.hget(this.keys.inflight(), runId),
      this.redis.zscore(this.keys.subQueue(identity.environmentId, identity.queue, identity.concurrencyKey), runId),
      this.redis.sismember(this.keys.envRunning(identity.environmentId), runId),
    ]);
    if (inflight !== null) {
      const split = inflight.lastIndexOf("|");
      return {
        ...stored.message,
        state: "in_progress",
        consumerId: inflight.slice(0, split),
        dequeuedAt: Number(inflight.slice(split + 1)),
        holdsConcurrency: holds === 1,
      };
    }
    return { ...stored.message, state: "queued", score: score === null ? undefined : Number(score), holdsConcurrency: false };
  }

  async popExpiredMessages(now: number, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const runIds = await this.redis.zrangebyscore(this.keys.ttl(), "-inf", now, "LIMIT", 0, limit);
    if (runIds.length === 0) return [];
    const raws = await this.redis.hmget(this.keys.messages(), ...runIds);
    const candidates: ExpiryCandidate[] = runIds.map((runId, i) => {
      const raw = raws[i];
      return { runId, stored: raw ? { raw, message: decodeMessage(raw) } : undefined };
    });
    return this.scripts.expire(candidates, now);
  }

  async waitForMessages(environmentId: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.signals.wait(
      environmentId,
      timeoutMs,
      async () => {
        const now = Date.now();
        const plan = await this.planner.plan(now, environmentId, 1);
        if (plan.length > 0) return { now: true };
        const index = environmentId === undefined ? this.keys.envs() : this.keys.envQueues(environmentId);
        const [, earliest] = await this.redis.zrange(index, 0, 0, "WITHSCORES");
        const wakeAt = earliest === undefined ? undefined : Number(earliest);
        return { now: false, wakeAt: wakeAt !== undefined && wakeAt > now ? wakeAt : undefined };
      },
      signal,
    );
  }

  async close(): Promise<void> {
    await this.signals.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async read(runId: string): Promise<StoredMessage | undefined> {
    const raw = await this.redis.hget(this.keys.messages(), runId);
    return raw === null ? undefined : { raw, message: decodeMessage(raw) };
  }

  /** Reads the message, runs the script with its placement, and reads again if it changed meanwhile. */
  private async withMessage<R extends string>(
    runId: string,
    operation: string,
    script: (stored: StoredMessage) => Promise<R | "stale">,
  ): Promise<{ outcome: R | "missing"; message?: QueueMessage }> {
    for (let i = 0; i < MAX_STALE_RETRIES; i++) {
      const stored = await this.read(runId);
      if (!stored) return { outcome: "missing" };
      const outcome = await script(stored);
      if (outcome !== "stale") return { outcome, message: stored.message };
    }
    throw staleError(operation, runId);
  }

  private backoffDelay(attempt: number): number {
    const { minMs, maxMs, factor } = this.backoff;
    const base = Math.min(maxMs, minMs * factor ** Math.max(0, attempt - 1));
    return Math.round(Math.min(maxMs, base * (1 + Math.random())));
  }

  private notify(environmentId: string): Promise<unknown> {
    return this.signals.notify(environmentId);
  }
}

function staleError(operation: string, runId: string): Error {
  return new Error(`RunQueue.${operation}(${runId}): the message kept changing, gave up after ${MAX_STALE_RETRIES} reads`);
}
