import type { ResolvedWorkerVersion } from "@internal/database/resolver";
import { type TaskRun, type TaskRunExecutionSnapshot, engineStore } from "@internal/run-store";
import { resolveRetryPolicy } from "../retry/index.js";
import { describeError, snapshotFriendlyId } from "./core.js";
import { type EngineDeps, EnginePart } from "./enginePart.js";
import { DEFAULT_MACHINE, INT4_MAX } from "./limits.js";
import { queueMessageFor } from "./queueMessage.js";
import type { DequeuedRun } from "./types.js";
import type { WorkerLookup } from "./workerLookup.js";

function machineFromConfig(config: unknown): string | null {
  if (config && typeof config === "object" && typeof (config as { preset?: unknown }).preset === "string") {
    const preset = (config as { preset: string }).preset;
    return MACHINE_PRESETS.has(preset) ? preset : null;
  }
  return null;
}

const MACHINE_PRESETS = new Set(["micro", "small-1x", "small-2x", "medium-1x", "medium-2x", "large-1x", "large-2x"]);

/**
 * Dequeue: lock queued runs to a worker version (PENDING_EXECUTING), park runs no worker can take,
 * requeue them when one registers.
 */
export class Dequeueing extends EnginePart {
  constructor(deps: EngineDeps, private readonly workers: WorkerLookup) {
    super(deps);
  }

  /**
   * Takes up to `maxRuns` queued runs of the environment, locks each to a worker version and moves it
   * to PENDING_EXECUTING. Long-polls up to `waitMs` when nothing is due.
   */
  async dequeue(input: {
    environmentId: string;
    consumerId: string;
    maxRuns: number;
    version?: string;
    waitMs?: number;
    /** Aborting ends the long-poll: nothing more is dequeued and what was taken so far is returned. */
    signal?: AbortSignal;
  }): Promise<DequeuedRun[]> {
    const deadline = Date.now() + Math.max(0, input.waitMs ?? 0);
    const maxRuns = Math.max(1, Math.min(input.maxRuns, 100));
    const versions = new Map<string, Promise<ResolvedWorkerVersion | null>>();
    const out: DequeuedRun[] = [];
    for (;;) {
      if (input.signal?.aborted) return out;
      const messages = await this.runQueue.dequeue({ environmentId: input.environmentId, consumerId: input.consumerId, maxCount: maxRuns - out.length });
      const locked = await Promise.all(
        messages.map(async (message) => {
          try {
            return await this.lockDequeuedRun(message.runId, input, versions);
          } catch (error) {
            this.logger.error("dequeue: failed to lock run; requeueing", { runId: message.runId, error: describeError(error) });
            await this.runQueue.nackMessage(message.runId, { retryAt: Date.now() + 1000 }).catch(() => undefined);
            return null;
          }
        })
      );
      for (const result of locked) if (result) out.push(result);
      const remaining = deadline - Date.now();
      if (out.length > 0 || remaining <= 0) return out;
      if (messages.length === 0) await this.runQueue.waitForMessages(input.environmentId, remaining, input.signal);
    }
  }

  async lockDequeuedRun(
    runId: string,
    input: { environmentId: string; consumerId: string; version?: string },
    versions: Map<string, Promise<ResolvedWorkerVersion | null>>
  ): Promise<DequeuedRun | null> {
    return this.core.lockRun(runId, async () => {
      const [run, latest] = await Promise.all([engineStore.findRunById(this.core.store, runId), this.core.latestSnapshot(runId)]);
      if (!run) {
        await this.runQueue.acknowledgeMessage(runId);
        return null;
      }
      if (latest?.executionStatus === "EXECUTING_WITH_WAITPOINTS") {
        await this.continueDequeued(runId);
        return null;
      }
      if (!latest || latest.executionStatus !== "QUEUED") {
        const status = latest?.executionStatus ?? "NONE";
        if (status === "FINISHED" || status === "NONE") await this.runQueue.acknowledgeMessage(runId);
        else this.logger.warn("dequeue: run not in a dequeueable state", { runId, status });
        return null;
      }
      const version = await this.workers.resolveVersion(
        run.runtimeEnvironmentId,
        run.lockedToVersionId ? { workerId: run.lockedToVersionId } : { version: input.version },
        versions
      );
      const task = version?.tasks.find((t) => t.slug === run.taskIdentifier);
      if (!version || !task) {
        await this.parkPendingVersion(run, latest, version ? "TASK_NOT_IN_LATEST" : "NO_WORKER");
        return null;
      }
      if (input.version && run.lockedToVersionId && version.worker.version !== input.version) {
        // Locked to another version than the one asking: leave it for that worker.
        await this.runQueue.nackMessage(runId, { retryAt: Date.now() + 1000 });
        return null;
      }
      const retryConfig = task.retryConfig ?? null;
      const policy = resolveRetryPolicy(retryConfig, this.retryDefaults);
      const now = new Date();
      const { run: updated, snapshot } = await this.core.transition(run, latest, {
        run: {
          status: "DEQUEUED",
          statusReason: null,
          lockedAt: now,
          lockedById: task.id,
          lockedToVersionId: version.worker.id,
          lockedQueueId: task.queue?.id ?? run.lockedQueueId,
          startedAt: run.startedAt ?? now,
          taskVersion: version.worker.version,
          sdkVersion: version.worker.sdkVersion,
          maxAttempts: run.maxAttempts ?? policy.maxAttempts,
          maxDurationInSeconds: run.maxDurationInSeconds === INT4_MAX ? null : (run.maxDurationInSeconds ?? task.maxDurationInSeconds ?? null),
          lockedRetryConfig: (run.lockedRetryConfig ?? retryConfig ?? undefined) as never,
          machinePreset: run.machinePreset ?? machineFromConfig(task.machineConfig) ?? DEFAULT_MACHINE,
        },
        snapshot: {
          executionStatus: "PENDING_EXECUTING",
          description: "Run was dequeued for execution",
          workerId: version.worker.id,
          runnerId: input.consumerId,
          completedWaitpointIds: latest.completedWaitpointIds,
        },
      });
      return {
        runId: updated.friendlyId,
        runFriendlyId: updated.friendlyId,
        snapshotId: snapshot.id,
        snapshotFriendlyId: snapshotFriendlyId(snapshot.id),
        attemptNumber: (updated.attemptNumber ?? 0) + 1,
        taskIdentifier: updated.taskIdentifier,
        environmentId: updated.runtimeEnvironmentId,
        workerId: version.worker.id,
        workerVersion: version.worker.version,
        completedWaitpoints: await this.waitpoints.completedWaitpointsFor(run.id, snapshot),
      };
    });
  }

  /**
   * A continue message: a waiting run whose waitpoints completed got its slots back from this dequeue.
   * It resumes on the worker that runs it (its `continue` long-poll), so nothing is handed out here.
   * Under the run lock.
   */
  private async continueDequeued(runId: string): Promise<void> {
    const continued = await this.waitpoints.continueLocked(runId);
    if (continued.status === "unblocked") return;
    // Blocked again (or nothing to continue): the slots go back.
    await this.runQueue.releaseConcurrency(runId, { onWaitpoint: true });
  }

  async parkPendingVersion(run: TaskRun, latest: TaskRunExecutionSnapshot, reason: string): Promise<void> {
    await this.core.transition(run, latest, {
      run: { status: "PENDING_VERSION", statusReason: reason },
      snapshot: { executionStatus: "RUN_CREATED", description: `Run is waiting for a worker version with task '${run.taskIdentifier}'` },
    });
    await this.runQueue.acknowledgeMessage(run.id);
  }

  /** After a worker registers: parked runs of these tasks go back to their queues. */
  async requeuePendingVersionRuns(environmentId: string, taskIdentifiers: string[]): Promise<number> {
    const parked = await engineStore.findRunsByStatus(this.core.store, { environmentId, status: "PENDING_VERSION", taskIdentifiers });
    let count = 0;
    for (const candidate of parked) {
      const moved = await this.core.lockRun(candidate.id, async () => {
        const run = await engineStore.findRunById(this.core.store, candidate.id);
        const latest = await this.core.latestSnapshot(candidate.id);
        if (!run || !latest || run.status !== "PENDING_VERSION" || latest.executionStatus !== "RUN_CREATED") return false;
        const { run: updated } = await this.core.transition(run, latest, {
          run: { status: "PENDING", statusReason: null, queuedAt: new Date() },
          snapshot: { executionStatus: "QUEUED", description: "Run was QUEUED, a worker version with its task was registered" },
        });
        await this.runQueue.enqueueMessage(queueMessageFor(updated, Date.now()));
        return true;
      });
      if (moved) count++;
    }
    return count;
  }
}
