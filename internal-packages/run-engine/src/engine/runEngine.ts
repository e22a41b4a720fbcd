import { engineStore, type TaskRun, type TaskRunExecutionSnapshot } from "@internal/run-store";
import { BackgroundLoop, fromFriendlyId, NotFoundError } from "@runplane/core";
import { JobQueue, JobWorker } from "@runplane/redis-worker/jobs";
import { BatchSystem, type CreateBatchInput, type CreateBatchResult } from "../batches/batchSystem.js";
import { EngineEventBus } from "../eventBus/index.js";
import { RunLocker } from "../locks/index.js";
import { DEFAULT_RETRY_POLICY } from "../retry/index.js";
import { RunQueue } from "../runQueue/index.js";
import { WaitpointSystem, type CompleteWaitpointInput, type CreateManualWaitpointInput } from "../waitpoints/waitpointSystem.js";
import { Attempts } from "./attempts.js";
import { Cancelling, type CancelRunOptions, type CancelRunResult } from "./cancel.js";
import { consoleLogger, describeError, EngineCore, engineJobCatalog, runIdOf, snapshotIdOf, type EngineJobCatalog } from "./core.js";
import { Dequeueing } from "./dequeue.js";
import type { EngineDeps } from "./enginePart.js";
import { RunFinishing } from "./finishing.js";
import { RunMetadata } from "./metadata.js";
import { PreMaterialisedRuns, type CreateCancelledRunInput, type CreateFailedTaskRunInput } from "./preMaterialised.js";
import { QueueRepair, type EnsureRunQueuedResult } from "./queueRepair.js";
import { ReplayAndReschedule } from "./replayAndReschedule.js";
import { Stalls } from "./stalls.js";
import { Triggering } from "./trigger.js";
import { TtlExpiry } from "./ttl.js";
import type {
  BlockResult,
  CompleteAttemptResult,
  CompletionInput,
  ContinueFromResult,
  DequeuedRun,
  EngineLogger,
  HeartbeatTimeouts,
  RunEngineOptions,
  StartAttemptResult,
  TriggerInput,
  TriggerResult,
  WaitpointResult,
} from "./types.js";
import { WorkerLookup } from "./workerLookup.js";

export { MAX_METADATA_BYTES, MAX_TAG_LENGTH, MAX_TAGS_PER_RUN } from "./limits.js";
export { normalizeCompletionError } from "./attempts.js";
export type { CancelRunOptions, CancelRunResult } from "./cancel.js";
export type { CreateCancelledRunInput, CreateFailedTaskRunInput } from "./preMaterialised.js";

function resolveHeartbeats(option: RunEngineOptions["heartbeatTimeoutMs"]): HeartbeatTimeouts {
  const base: HeartbeatTimeouts = {
    PENDING_EXECUTING: 60_000,
    EXECUTING: 60_000,
    EXECUTING_WITH_WAITPOINTS: 60_000,
    PENDING_CANCEL: 60_000,
    SUSPENDED: 600_000,
  };
  if (typeof option === "number") {
    return { PENDING_EXECUTING: option, EXECUTING: option, EXECUTING_WITH_WAITPOINTS: option, PENDING_CANCEL: option, SUSPENDED: option * 10 };
  }
  return { ...base, ...(option ?? {}) };
}

/**
 * The run engine: trigger → queue → dequeue → attempts → completion, with retries, waitpoints,
 * batches, cancellation, delays and TTLs. Owns its Redis pieces (queue, locks, jobs); writes run
 * tables only through the run store. A facade: each concern lives in its own module (trigger.ts,
 * dequeue.ts, attempts.ts, cancel.ts, finishing.ts, replayAndReschedule.ts, ttl.ts, stalls.ts,
 * preMaterialised.ts, metadata.ts, queueRepair.ts).
 */
export class RunEngine {
  readonly eventBus: EngineEventBus;
  readonly runQueue: RunQueue;
  readonly waitpoints: WaitpointSystem;
  readonly batches: BatchSystem;
  private readonly core: EngineCore;
  private readonly locker: RunLocker;
  private readonly jobs: JobQueue<EngineJobCatalog>;
  private readonly jobWorker: JobWorker<EngineJobCatalog>;
  private readonly ttlLoop: BackgroundLoop;
  private readonly queueRepair: QueueRepair;
  private readonly queueRepairLoop: BackgroundLoop | null;
  private readonly logger: EngineLogger;
  private readonly workers: WorkerLookup;
  private readonly finishing: RunFinishing;
  private readonly triggering: Triggering;
  private readonly dequeueing: Dequeueing;
  private readonly attempts: Attempts;
  private readonly cancelling: Cancelling;
  private readonly replaying: ReplayAndReschedule;
  private readonly ttl: TtlExpiry;
  private readonly stalls: Stalls;
  private readonly preMaterialised: PreMaterialisedRuns;
  private readonly metadata: RunMetadata;
  private started = false;

  constructor(options: RunEngineOptions) {
    this.logger = options.logger ?? consoleLogger;
    const prefix = options.keyPrefix ?? "engine:";
    this.eventBus = new EngineEventBus((event, error) => this.logger.error("engine event listener failed", { event, error: describeError(error) }));
    this.runQueue = new RunQueue({ redis: options.redis, keyPrefix: `${prefix}runqueue:`, ...(options.runQueue ?? {}) });
    this.locker = new RunLocker({ redis: options.redis, keyPrefix: `${prefix}runlock:` });
    this.jobs = new JobQueue({ name: "engine", redis: options.redis, catalog: engineJobCatalog, keyPrefix: `${prefix}worker:` });
    this.core = new EngineCore(
      options.runStore,
      options.resolver,
      this.runQueue,
      this.locker,
      this.jobs,
      this.eventBus,
      this.logger,
      resolveHeartbeats(options.heartbeatTimeoutMs),
      options.failpoint
    );
    this.waitpoints = new WaitpointSystem(this.core);
    this.batches = new BatchSystem(this.core, this.waitpoints, options.mintKind ?? "LEGACY");
    this.queueRepair = new QueueRepair(this.core, { minAgeMs: options.worker?.queueRepairMinAgeMs }, (runId) => this.waitpoints.continueLocked(runId));
    const deps: EngineDeps = {
      core: this.core,
      runQueue: this.runQueue,
      eventBus: this.eventBus,
      locker: this.locker,
      logger: this.logger,
      options,
      retryDefaults: { ...DEFAULT_RETRY_POLICY, ...(options.retryDefaults ?? {}) },
      mintKind: options.mintKind ?? "LEGACY",
      waitpoints: this.waitpoints,
      batches: this.batches,
      queueRepair: this.queueRepair,
    };
    this.workers = new WorkerLookup(this.core);
    this.finishing = new RunFinishing(deps);
    this.triggering = new Triggering(deps, this.workers);
    this.dequeueing = new Dequeueing(deps, this.workers);
    this.attempts = new Attempts(deps, this.finishing);
    this.cancelling = new Cancelling(deps, this.finishing);
    this.replaying = new ReplayAndReschedule(deps, this.triggering);
    this.ttl = new TtlExpiry(deps, this.finishing);
    this.stalls = new Stalls(deps, this.attempts, this.finishing);
    this.preMaterialised = new PreMaterialisedRuns(deps);
    this.metadata = new RunMetadata(deps);
    this.jobWorker = new JobWorker({
      queue: this.jobs,
      name: "engine-jobs",
      concurrency: options.worker?.concurrency ?? 10,
      pollIntervalMs: options.worker?.pollIntervalMs ?? 100,
      onError: (error, job) => this.logger.error("engine job failed", { job: job?.job, id: job?.id, error: describeError(error) }),
      handlers: {
        heartbeatSnapshot: ({ runId, snapshotId }) => this.stalls.handleStalledSnapshot(runId, snapshotId),
        enqueueDelayedRun: ({ runId }) => this.replaying.enqueueDelayedRun(runId),
        finishWaitpoint: ({ waitpointId, error }) => this.waitpoints.finishWaitpoint(waitpointId, error),
        cancelRun: async ({ runId, reason }) => void (await this.cancelling.cancelRun(runId, { reason })),
        maxDurationExceeded: ({ runId, attemptNumber }) => this.stalls.handleMaxDuration(runId, attemptNumber),
        continueRunIfUnblocked: async ({ runId }) => void (await this.waitpoints.continueRunIfUnblocked(runId)),
        tryCompleteBatch: ({ batchId }) => this.batches.tryCompleteBatch(batchId),
      },
    });
    this.ttlLoop = new BackgroundLoop({
      name: "engine-ttl",
      intervalMs: options.worker?.ttlSweepIntervalMs ?? 1000,
      tick: () => this.ttl.expireDueRuns(),
      onError: (error) => this.logger.error("engine ttl sweep failed", { error: describeError(error) }),
    });
    const repairEveryMs = options.worker?.queueRepairIntervalMs ?? 30_000;
    // The first sweep waits one interval: a process that just booted leaves the others' fresh runs alone.
    let repairNotBefore = 0;
    this.queueRepairLoop =
      repairEveryMs > 0
        ? new BackgroundLoop({
            name: "engine-queue-repair",
            intervalMs: repairEveryMs,
            tick: async () => {
              if (repairNotBefore === 0) repairNotBefore = Date.now() + repairEveryMs;
              if (Date.now() < repairNotBefore) return;
              await this.queueRepair.sweep();
            },
            onError: (error) => this.logger.error("engine queue repair sweep failed", { error: describeError(error) }),
          })
        : null;
  }

  /** Starts the background workers (jobs: delays, heartbeats, timeouts, cascades; TTL sweep). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.jobWorker.start();
    this.ttlLoop.start();
    this.queueRepairLoop?.start();
  }

  /** Stops the background workers; false when in-flight work outlived the deadline. */
  async stop(deadlineMs = 10_000): Promise<boolean> {
    if (!this.started) return true;
    this.started = false;
    const results = await Promise.all([
      this.jobWorker.stop(deadlineMs),
      this.ttlLoop.stop(deadlineMs),
      this.queueRepairLoop?.stop(deadlineMs) ?? true,
    ]);
    return results.every(Boolean);
  }

  /** Stops workers and closes Redis connections. */
  async close(): Promise<void> {
    await this.stop();
    this.eventBus.removeAllListeners();
    await Promise.all([this.runQueue.close(), this.locker.close(), this.jobs.close()]);
  }

  // Trigger, idempotency, replay, delays

  trigger(input: TriggerInput): Promise<TriggerResult> {
    return this.triggering.trigger(input);
  }

  /** Forget memoised worker lookups of an environment (call after registering a worker). */
  invalidateWorkers(environmentId: string): void {
    this.workers.invalidateWorkers(environmentId);
  }

  /** Clears an idempotency key so the next trigger with it creates a new run. NotFound when none had it. */
  resetIdempotencyKey(environmentId: string, taskIdentifier: string | undefined, idempotencyKey: string): Promise<number> {
    return this.triggering.resetIdempotencyKey(environmentId, taskIdentifier, idempotencyKey);
  }

  /** A fresh run with the original's task, payload and options; `replayedFromTaskRunFriendlyId` links them. */
  replay(runIdOrFriendly: string, overrides: Partial<TriggerInput> = {}): Promise<TriggerResult> {
    return this.replaying.replay(runIdOrFriendly, overrides);
  }

  /** Moves a delayed run's start. Only DELAYED runs (UnprocessableError otherwise). */
  rescheduleRun(runIdOrFriendly: string, delayUntil: Date): Promise<TaskRun> {
    return this.replaying.rescheduleRun(runIdOrFriendly, delayUntil);
  }

  /**
   * Makes sure a dequeueable run (QUEUED, or DELAYED past its delay with no enqueue job) has its queue
   * message, (re)enqueueing it when the trigger's enqueue was lost. Idempotent; safe on any run.
   */
  ensureRunQueued(runIdOrFriendly: string): Promise<EnsureRunQueuedResult> {
    return this.queueRepair.ensureRunQueued(runIdOf(runIdOrFriendly));
  }

  /** One bounded queue-repair sweep step (the background loop calls it every 30 s). */
  repairUnqueuedRuns(input: { environmentId?: string; minAgeMs?: number } = {}) {
    return this.queueRepair.sweep(input);
  }

  /** One page of the held-slots repair (also part of every sweep): waiting or finished runs holding slots. */
  repairHeldSlots() {
    return this.queueRepair.sweepHeldSlots();
  }

  // Dequeue and attempts

  /**
   * Takes up to `maxRuns` queued runs of the environment, locks each to a worker version and moves it
   * to PENDING_EXECUTING. Long-polls up to `waitMs` when nothing is due.
   */
  dequeue(input: Parameters<Dequeueing["dequeue"]>[0]): Promise<DequeuedRun[]> {
    return this.dequeueing.dequeue(input);
  }

  /** After a worker registers: parked runs of these tasks go back to their queues. */
  requeuePendingVersionRuns(environmentId: string, taskIdentifiers: string[]): Promise<number> {
    return this.dequeueing.requeuePendingVersionRuns(environmentId, taskIdentifiers);
  }

  startRunAttempt(runIdOrFriendly: string, snapshotIdOrFriendly: string): Promise<StartAttemptResult> {
    return this.attempts.startRunAttempt(runIdOrFriendly, snapshotIdOrFriendly);
  }

  /** Pushes the heartbeat deadline out and returns the run's current snapshot (409 for a previous execution's). */
  heartbeat(runIdOrFriendly: string, snapshotIdOrFriendly: string): ReturnType<Attempts["heartbeat"]> {
    return this.attempts.heartbeat(runIdOrFriendly, snapshotIdOrFriendly);
  }

  completeRunAttempt(runIdOrFriendly: string, snapshotIdOrFriendly: string, completion: CompletionInput): Promise<CompleteAttemptResult> {
    return this.attempts.completeRunAttempt(runIdOrFriendly, snapshotIdOrFriendly, completion);
  }

  /** The latest snapshot of a run (worker polling). */
  async getLatestSnapshot(runIdOrFriendly: string): Promise<TaskRunExecutionSnapshot | null> {
    return this.core.latestSnapshot(runIdOf(runIdOrFriendly));
  }

  /** One snapshot of a run (any, not only the latest); null when the run has no such snapshot. */
  async getSnapshot(runIdOrFriendly: string, snapshotIdOrFriendly: string): Promise<TaskRunExecutionSnapshot | null> {
    return engineStore.findSnapshot(this.core.store, runIdOf(runIdOrFriendly), snapshotIdOf(snapshotIdOrFriendly));
  }

  // Cancel, expire

  cancelRun(runIdOrFriendly: string, options: CancelRunOptions = {}): Promise<CancelRunResult> {
    return this.cancelling.cancelRun(runIdOrFriendly, options);
  }

  /** One TTL sweep: queued runs past their ttl become EXPIRED. Returns true when there may be more. */
  expireDueRuns(limit = 100): Promise<boolean> {
    return this.ttl.expireDueRuns(limit);
  }

  // Pre-materialised rows (mollifier drainer, batch items that could not trigger)

  /** Writes a run straight into CANCELED from its trigger params (a cancel that beat the buffered trigger). */
  createCancelledRun(input: CreateCancelledRunInput): Promise<TaskRun> {
    return this.preMaterialised.createCancelledRun(input);
  }

  /** Writes a run straight into SYSTEM_FAILURE (a batch item or buffered trigger that could not be created). */
  createFailedTaskRun(input: CreateFailedTaskRunInput): Promise<TaskRun> {
    return this.preMaterialised.createFailedTaskRun(input);
  }

  // =================================================================================================
  // Waitpoints and batches (delegates)

  createManualWaitpoint(input: CreateManualWaitpointInput): Promise<WaitpointResult> {
    return this.waitpoints.createManualWaitpoint(input);
  }

  /** First completion wins. With `environmentId`, a waitpoint of another environment is not found (404). */
  async completeWaitpoint(waitpointIdOrFriendly: string, input: CompleteWaitpointInput & { environmentId?: string } = {}) {
    const id = fromFriendlyId(waitpointIdOrFriendly, "waitpoint");
    if (input.environmentId && !(await this.core.store.findWaitpoint({ id, environmentId: input.environmentId }))) {
      throw new NotFoundError(`Waitpoint ${waitpointIdOrFriendly} not found`);
    }
    return this.waitpoints.completeWaitpoint(id, input);
  }

  async waitForDuration(runIdOrFriendly: string, snapshotIdOrFriendly: string, date: Date, options?: { idempotencyKey?: string; idempotencyKeyTTL?: string }) {
    return this.waitpoints.waitForDuration(runIdOf(runIdOrFriendly), snapshotIdOf(snapshotIdOrFriendly), date, options);
  }

  /** `timeout`: pending tokens among the waitpoints complete with the timeout error at that instant. */
  async blockRunWithWaitpoint(
    runIdOrFriendly: string,
    snapshotIdOrFriendly: string,
    waitpointIds: string[],
    options: { timeout?: Date } = {}
  ): Promise<BlockResult> {
    return this.waitpoints.blockRunWithWaitpoint(
      runIdOf(runIdOrFriendly),
      snapshotIdOf(snapshotIdOrFriendly),
      waitpointIds.map((id) => fromFriendlyId(id, "waitpoint")),
      options
    );
  }

  /** The worker protocol's `continue` long-poll (from a possibly older snapshot); see WaitpointSystem.continueFrom. */
  continueFrom(runIdOrFriendly: string, snapshotIdOrFriendly: string, options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<ContinueFromResult> {
    return this.waitpoints.continueFrom(runIdOf(runIdOrFriendly), snapshotIdOf(snapshotIdOrFriendly), options.waitMs ?? 0, options.signal);
  }

  createBatch(input: CreateBatchInput): Promise<CreateBatchResult> {
    return this.batches.createBatch(input);
  }

  /** Replaces a run's metadata (≤ 256 KiB; optimistic on metadataVersion when given). Finished runs refuse. */
  updateMetadata(runIdOrFriendly: string, input: { metadata: string; metadataType?: string; expectedVersion?: number }): Promise<TaskRun> {
    return this.metadata.updateMetadata(runIdOrFriendly, input);
  }
}
