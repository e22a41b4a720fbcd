import { BackgroundLoop } from "@runplane/core/lifecycle";
import { DRAIN_LEASE_EXPIRED, type MollifierBuffer } from "./buffer.js";
import { errorFields, silentLogger, type MollifierLogger } from "./logger.js";
import { drainBackoffMs, isRetryableDrainError } from "./retry.js";
import { Slots } from "./slots.js";
import { entrySnapshot, type BufferEntry, type Snapshot } from "./schemas.js";
import { mollifierMetrics, type DrainOutcome, type MollifierMetrics } from "./telemetry.js";

/** What the handler receives: the entry and its snapshot with buffered mutations applied. */
export type DrainEntry = BufferEntry & { snapshot: Snapshot };
/** What the terminal callback receives: the snapshot is null only when the payload is malformed. */
export type TerminalEntry = BufferEntry & { snapshot: Snapshot | null };

export type DrainFailureCause = "non-retryable" | "max-attempts-exhausted" | "malformed-payload";
export type DrainFailure = { code: string; message: string; cause: DrainFailureCause; attempts: number };

export type MollifierDrainerOptions = {
  buffer: MollifierBuffer;
  /**
   * Replays one entry. Must be idempotent per run id (an entry whose drainer died after the replay
   * but before recording success is replayed again with the same run id). Resolve = materialised.
   * Throw = failure, classified by `isRetryable`.
   */
  handler: (entry: DrainEntry) => Promise<void>;
  /**
   * Called once before a terminal `fail` (non-retryable error, malformed payload, a poison entry whose
   * leases kept expiring) so the caller can write a terminal record. Throwing a retryable error requeues the
   * entry instead; any other throw is logged and the entry is failed anyway. Resolving
   * "materialised" says the callback created the run after all (a last replay succeeded): the entry
   * is acked like a drained one instead of failed.
   */
  onTerminalFailure?: (entry: TerminalEntry, failure: DrainFailure) => Promise<void | "materialised">;
  isRetryable?: (error: unknown) => boolean;
  /** Entries processed at once across all envs (MOLLIFIER_DRAIN_CONCURRENCY). Default 50. */
  concurrency?: number;
  /** Pops per env per tick. Default 50. */
  batchSize?: number;
  /**
   * Drain leases an entry may lose (its drainer died holding it) before it is failed as poison
   * (MOLLIFIER_DRAIN_MAX_ATTEMPTS). Retryable handler failures never exhaust it. Default 3.
   */
  maxAttempts?: number;
  pollIntervalMs?: number;
  maxOrgsPerTick?: number;
  backoffFloorMs?: number;
  maxBackoffMs?: number;
  /** How long a popped entry stays leased before `reclaimExpiredDrains` hands it back. Default 60 s. */
  leaseMs?: number;
  reclaimIntervalMs?: number;
  metrics?: MollifierMetrics;
  logger?: MollifierLogger;
  random?: () => number;
};

export type TickResult = { drained: number; retried: number; failed: number; popErrors: number };
type Target = { orgId: string; envId: string; budget: number };

/**
 * The drain loop, generic over what a replay means. Each tick: hand back expired leases, retry
 * lost acks, pick orgs in rotation (up to maxOrgsPerTick, start rotating by one per tick) and one env
 * per org (rotating per org, so an org with many envs gets one slot like an org with one), then pop
 * up to `batchSize` per env, round-robin across envs, with at most `concurrency` entries in flight
 * (slots outlive the tick: the next tick starts while slow handlers still run).
 */
export class MollifierDrainer {
  private readonly o: Required<Omit<MollifierDrainerOptions, "onTerminalFailure">> & Pick<MollifierDrainerOptions, "onTerminalFailure">;
  private readonly loop: BackgroundLoop;
  private orgCursor = 0;
  private readonly envCursors = new Map<string, number>();
  private readonly pendingAcks = new Set<string>();
  private lastReclaimAt = 0;
  private consecutiveErrors = 0;
  private readonly slots: Slots;

  constructor(options: MollifierDrainerOptions) {
    this.o = {
      isRetryable: isRetryableDrainError,
      concurrency: 50,
      batchSize: 50,
      maxAttempts: 3,
      pollIntervalMs: 100,
      maxOrgsPerTick: 500,
      backoffFloorMs: 100,
      maxBackoffMs: 5_000,
      leaseMs: 60_000,
      reclaimIntervalMs: 1_000,
      metrics: options.metrics ?? mollifierMetrics(),
      logger: silentLogger,
      random: Math.random,
      ...stripUndefined(options),
    };
    this.o.concurrency = Math.max(1, Math.floor(this.o.concurrency));
    this.o.batchSize = Math.max(1, Math.floor(this.o.batchSize));
    this.o.maxAttempts = Math.max(1, Math.floor(this.o.maxAttempts));
    this.slots = new Slots(this.o.concurrency);
    this.o.metrics.observe("bufferDepth", () => this.o.buffer.getDepth());
    this.o.metrics.observe("draining", () => this.o.buffer.getDrainingCount());
    this.loop = new BackgroundLoop({
      name: "mollifier-drainer",
      intervalMs: this.o.pollIntervalMs,
      tick: (signal) => this.loopTick(signal),
    });
  }

  get isRunning(): boolean {
    return this.loop.isRunning;
  }

  /** Idempotent. Rotation starts fresh. */
  start(): void {
    if (this.loop.isRunning) return;
    this.orgCursor = 0;
    this.envCursors.clear();
    this.consecutiveErrors = 0;
    this.loop.start();
  }

  /** Stops popping and waits for in-flight handlers; resolves false if the deadline passed first. */
  async stop(options: { deadlineMs?: number } = {}): Promise<boolean> {
    const deadlineMs = options.deadlineMs ?? 30_000;
    const startedAt = Date.now();
    const loopStopped = await this.loop.stop(deadlineMs);
    const handlersDone = await this.slots.drain(deadlineMs - (Date.now() - startedAt));
    if (!loopStopped || !handlersDone) this.o.logger.warn("MollifierDrainer.stop: deadline exceeded with handlers in flight");
    return loopStopped && handlersDone;
  }

  /** One tick without the loop, waiting for the handlers it dispatched (tests, tools). */
  async runOnce(signal: AbortSignal = new AbortController().signal): Promise<TickResult> {
    const { result, tasks } = await this.tick(signal);
    await Promise.all(tasks);
    return result;
  }

  private async loopTick(signal: AbortSignal): Promise<boolean> {
    try {
      const { tasks, result } = await this.tick(signal);
      this.consecutiveErrors = 0;
      return tasks.length + result.popErrors > 0;
    } catch (error) {
      this.consecutiveErrors += 1;
      const delay = Math.min(Math.max(this.o.pollIntervalMs, this.o.backoffFloorMs) * 2 ** (this.consecutiveErrors - 1), this.o.maxBackoffMs);
      this.o.logger.error("MollifierDrainer tick failed; backing off", { ...errorFields(error), delayMs: delay });
      await abortableSleep(delay, signal);
      return false;
    }
  }

  /**
   * Dispatches up to batchSize pops per target env, round-robin, each into a handler slot. The tick
   * waits for pops and free slots, not for handlers: a slow or hung handler holds one slot, never the
   * whole drainer. Counts in `result` fill in as the returned tasks settle.
   */
  private async tick(signal: AbortSignal): Promise<{ result: TickResult; tasks: Promise<void>[] }> {
    const result: TickResult = { drained: 0, retried: 0, failed: 0, popErrors: 0 };
    const tasks: Promise<void>[] = [];
    await this.retryPendingAcks();
    await this.maybeReclaim();
    const targets = await this.pickTargets();
    if (targets.length === 0) return { result, tasks };

    const skipped = new Set<string>();
    let cursor = 0;
    const next = (): Target | undefined => {
      for (let i = 0; i < targets.length; i++) {
        const target = targets[(cursor + i) % targets.length]!;
        if (target.budget > 0 && !skipped.has(target.envId)) {
          cursor = (cursor + i + 1) % targets.length;
          target.budget -= 1;
          return target;
        }
      }
      return undefined;
    };

    const popper = async () => {
      while (await this.slots.acquire(signal)) {
        const target = next();
        if (!target) {
          this.slots.release();
          return;
        }
        let entry: BufferEntry | null;
        try {
          entry = await this.o.buffer.pop({ envId: target.envId, orgId: target.orgId, leaseMs: this.o.leaseMs });
        } catch (error) {
          this.slots.release();
          if (!skipped.has(target.envId)) result.popErrors += 1;
          skipped.add(target.envId);
          this.o.logger.error("MollifierDrainer.pop failed", { ...errorFields(error), envId: target.envId });
          continue;
        }
        if (!entry) {
          this.slots.release();
          skipped.add(target.envId);
          continue;
        }
        const popped = entry;
        const processing = this.processEntry(popped).catch((error: unknown) => {
          this.o.logger.error("MollifierDrainer.processEntry threw", { ...errorFields(error), runId: popped.runId });
          return "failed" as const;
        });
        tasks.push(this.slots.run(processing).then((outcome) => void (result[outcome] += 1)));
      }
    };
    const poppers = Math.min(this.o.concurrency, targets.length * this.o.batchSize);
    await Promise.all(Array.from({ length: poppers }, popper));
    return { result, tasks };
  }

  private async pickTargets(): Promise<Target[]> {
    const orgs = (await this.o.buffer.listOrgs()).sort();
    if (orgs.length === 0) return [];
    const sliceSize = Math.min(this.o.maxOrgsPerTick, orgs.length);
    const start = this.orgCursor % orgs.length;
    this.orgCursor = (this.orgCursor + 1) % orgs.length;
    const slice = Array.from({ length: sliceSize }, (_, i) => orgs[(start + i) % orgs.length]!);
    const envLists = await Promise.all(slice.map((orgId) => this.o.buffer.listEnvsForOrg(orgId)));
    const targets: Target[] = [];
    slice.forEach((orgId, i) => {
      const envs = envLists[i]!.sort();
      if (envs.length === 0) return;
      const at = this.envCursors.get(orgId) ?? 0;
      this.envCursors.set(orgId, (at + 1) % envs.length);
      targets.push({ orgId, envId: envs[at % envs.length]!, budget: this.o.batchSize });
    });
    return targets;
  }

  private async processEntry(entry: BufferEntry): Promise<DrainOutcome> {
    if (entry.status === "DRAINED") {
      // the handler already succeeded for this entry; only the ack was lost
      await this.ackAfterSuccess(entry);
      return "drained";
    }
    if (entry.attempts >= this.o.maxAttempts && entry.lastError?.code === DRAIN_LEASE_EXPIRED) {
      // a drainer died holding it, again and again: likely the entry kills the process (poison)
      const error = entry.lastError;
      return this.terminal({ ...entry, snapshot: safeSnapshot(entry) }, { ...error, cause: "max-attempts-exhausted", attempts: entry.attempts });
    }
    let drainEntry: DrainEntry;
    try {
      drainEntry = { ...entry, snapshot: entrySnapshot(entry) };
    } catch (error) {
      return this.terminal({ ...entry, snapshot: null }, { ...describe(error), cause: "malformed-payload", attempts: entry.attempts + 1 });
    }
    try {
      await this.o.handler(drainEntry);
    } catch (error) {
      return this.handlerFailed(drainEntry, error);
    }
    await this.ackAfterSuccess(drainEntry);
    return "drained";
  }

  /** Success is recorded (DRAINED) before the ack, so a lost ack never leads to a second replay. */
  private async ackAfterSuccess(entry: BufferEntry): Promise<void> {
    try {
      await this.o.buffer.markDrained(entry.runId, entry.leaseId);
    } catch (error) {
      this.o.logger.warn("MollifierDrainer.markDrained failed; acking directly", { ...errorFields(error), runId: entry.runId });
    }
    try {
      await this.o.buffer.ack(entry.runId);
    } catch (error) {
      this.pendingAcks.add(entry.runId);
      this.o.logger.warn("MollifierDrainer.ack failed; will retry", { ...errorFields(error), runId: entry.runId });
    }
    this.o.metrics.recordDrain("drained", Date.now() - entry.createdAtMs);
  }

  private async retryPendingAcks(): Promise<void> {
    for (const runId of [...this.pendingAcks]) {
      try {
        await this.o.buffer.ack(runId);
        this.pendingAcks.delete(runId);
      } catch (error) {
        this.o.logger.warn("MollifierDrainer.ack retry failed", { ...errorFields(error), runId });
        return; // Redis is still unhappy: leave the rest for the next tick (or the lease reclaim)
      }
    }
  }

  private async maybeReclaim(): Promise<void> {
    const now = Date.now();
    if (now - this.lastReclaimAt < this.o.reclaimIntervalMs) return;
    this.lastReclaimAt = now;
    try {
      const { requeued, pendingAck } = await this.o.buffer.reclaimExpiredDrains();
      if (requeued + pendingAck > 0) this.o.logger.warn("MollifierDrainer reclaimed expired drain leases", { requeued, pendingAck });
    } catch (error) {
      this.o.logger.error("MollifierDrainer.reclaimExpiredDrains failed", errorFields(error));
    }
  }

  /**
   * A retryable failure (the run store or its network is unavailable) is requeued with a capped
   * backoff for as long as the outage lasts: an accepted trigger is never failed because our own
   * infrastructure was down. Only a non-retryable failure is terminal.
   */
  private async handlerFailed(entry: DrainEntry, error: unknown): Promise<DrainOutcome> {
    if (this.o.isRetryable(error)) return this.requeue(entry, error);
    return this.terminal(entry, { ...describe(error), cause: "non-retryable", attempts: entry.attempts + 1 });
  }

  private async requeue(entry: BufferEntry, error: unknown): Promise<DrainOutcome> {
    const delayMs = drainBackoffMs(entry.attempts, { floorMs: this.o.backoffFloorMs, maxMs: this.o.maxBackoffMs, random: this.o.random });
    try {
      const reply = await this.o.buffer.requeue(entry.runId, { delayMs, leaseId: entry.leaseId, error: describe(error) });
      this.o.logger.warn("MollifierDrainer: retryable failure, requeued", { runId: entry.runId, delayMs, reply: reply.kind, ...errorFields(error) });
    } catch (requeueError) {
      // the lease will expire and reclaimExpiredDrains hands the entry back
      this.o.logger.error("MollifierDrainer.requeue failed", { ...errorFields(requeueError), runId: entry.runId });
    }
    this.o.metrics.recordDrain("retried");
    return "retried";
  }

  private async terminal(entry: TerminalEntry, failure: DrainFailure): Promise<DrainOutcome> {
    if (this.o.onTerminalFailure) {
      try {
        if ((await this.o.onTerminalFailure(entry, failure)) === "materialised") {
          await this.ackAfterSuccess(entry);
          return "drained";
        }
      } catch (error) {
        if (this.o.isRetryable(error)) return this.requeue(entry, error);
        this.o.logger.error("MollifierDrainer.onTerminalFailure threw; failing the entry", { ...errorFields(error), runId: entry.runId });
      }
    }
    try {
      await this.o.buffer.fail(entry.runId, { code: failure.code, message: failure.message, leaseId: entry.leaseId });
    } catch (error) {
      this.o.logger.error("MollifierDrainer.fail failed", { ...errorFields(error), runId: entry.runId });
    }
    this.o.logger.error("MollifierDrainer: terminal failure", { runId: entry.runId, ...failure });
    this.o.metrics.recordDrain("failed");
    return "failed";
  }
}

function safeSnapshot(entry: BufferEntry): Snapshot | null {
  try {
    return entrySnapshot(entry);
  } catch {
    return null;
  }
}

function describe(error: unknown): { code: string; message: string } {
  if (error instanceof Error) return { code: error.name || "Error", message: error.message };
  return { code: "Unknown", message: String(error) };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
