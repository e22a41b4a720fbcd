import { randomBytes } from "node:crypto";
import type { ControlPlaneResolver } from "@internal/database/resolver";
import {
  engineStore,
  type RunStore,
  type RunUpdateData,
  type SnapshotWrite,
  type TaskRun,
  type TaskRunExecutionSnapshot,
} from "@internal/run-store";
import { classifyIdShape, fromFriendlyId, generateInternalId, toFriendlyId, type MintKind } from "@runplane/core";
import { JobQueue } from "@runplane/redis-worker/jobs";
import { z } from "zod";
import type { EngineEventBus } from "../eventBus/index.js";
import type { RunLocker } from "../locks/index.js";
import type { RunQueue } from "../runQueue/index.js";
import { HEARTBEAT_STATUSES, isExecuting } from "./statuses.js";
import { RunNotFoundError, StaleSnapshotError } from "./errors.js";
import type { EngineLogger, HeartbeatTimeouts } from "./types.js";

export const engineJobCatalog = {
  heartbeatSnapshot: { schema: z.object({ runId: z.string(), snapshotId: z.string() }) },
  enqueueDelayedRun: { schema: z.object({ runId: z.string() }) },
  finishWaitpoint: { schema: z.object({ waitpointId: z.string(), error: z.string().optional() }) },
  cancelRun: { schema: z.object({ runId: z.string(), reason: z.string() }) },
  maxDurationExceeded: { schema: z.object({ runId: z.string(), attemptNumber: z.number().int() }) },
  continueRunIfUnblocked: { schema: z.object({ runId: z.string() }) },
  tryCompleteBatch: { schema: z.object({ batchId: z.string() }) },
};
export type EngineJobCatalog = typeof engineJobCatalog;

export const jobIds = {
  heartbeat: (runId: string) => `heartbeatSnapshot:${runId}`,
  delayed: (runId: string) => `enqueueDelayedRun:${runId}`,
  finishWaitpoint: (waitpointId: string) => `finishWaitpoint:${waitpointId}`,
  cancel: (runId: string) => `cancelRun:${runId}`,
  maxDuration: (runId: string) => `maxDurationExceeded:${runId}`,
  continueRun: (runId: string) => `continueRunIfUnblocked:${runId}`,
  batch: (batchId: string) => `tryCompleteBatch:${batchId}`,
};

export function randomKey(): string {
  return randomBytes(18).toString("base64url");
}

/** The id family of an existing id (a ksuid parent gets ksuid children, whatever the split mode). */
export function mintKindOf(id: string): MintKind {
  return classifyIdShape(id).residency;
}

export function runFriendlyId(runId: string): string {
  return toFriendlyId("run", fromFriendlyId(runId, "run"));
}

export function snapshotFriendlyId(snapshotId: string): string {
  return toFriendlyId("snapshot", snapshotId);
}

export function runIdOf(id: string): string {
  return fromFriendlyId(id, "run");
}

export function snapshotIdOf(id: string): string {
  return fromFriendlyId(id, "snapshot");
}

export type AfterEffects = Array<() => Promise<unknown>>;

export type TransitionInput = {
  run?: RunUpdateData;
  snapshot: Omit<SnapshotWrite, "id" | "createdAt" | "environmentId" | "environmentType" | "projectId" | "organizationId" | "runStatus" | "previousSnapshotId"> & {
    runStatus?: SnapshotWrite["runStatus"];
  };
};

/** Shared machinery of the engine's subsystems: store, resolver, queue, locks, jobs, events. */
export class EngineCore {
  constructor(
    readonly store: RunStore,
    readonly resolver: ControlPlaneResolver,
    readonly runQueue: RunQueue,
    readonly locker: RunLocker,
    readonly jobs: JobQueue<EngineJobCatalog>,
    readonly eventBus: EngineEventBus,
    readonly logger: EngineLogger,
    readonly heartbeatTimeouts: HeartbeatTimeouts,
    /** Crash-test hook: called at named points between two stores' writes (a no-op in production). */
    readonly failpoint: (name: string) => void = () => {}
  ) {}

  /** Every mutation of one run runs under its lock. */
  lockRun<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    return this.locker.lock([`run:${runId}`], () => fn());
  }

  async latestSnapshot(runId: string): Promise<TaskRunExecutionSnapshot | null> {
    return engineStore.findLatestSnapshot(this.store, runId);
  }

  async requireRun(runId: string): Promise<TaskRun> {
    const run = await engineStore.findRunById(this.store, runId);
    if (!run) throw new RunNotFoundError(runId);
    return run;
  }

  /** The latest snapshot, which must be `snapshotId`. */
  async requireLatest(runId: string, snapshotId: string): Promise<TaskRunExecutionSnapshot> {
    const latest = await this.latestSnapshot(runId);
    if (!latest || latest.id !== snapshotId) {
      throw new StaleSnapshotError(runId, snapshotId, latest?.id ?? null, latest?.executionStatus ?? null);
    }
    return latest;
  }

  /**
   * The latest snapshot for a worker that holds `snapshotId` of the current execution. The engine may
   * have moved on without the worker's help (a triggerAndWait blocked it, waitpoints continued it, a
   * cancel is pending): a snapshot of the same attempt whose successors are all executing (or the
   * final PENDING_CANCEL) is still accepted. Anything else is stale (409).
   */
  async currentExecution(runId: string, snapshotId: string): Promise<{ latest: TaskRunExecutionSnapshot; newer: TaskRunExecutionSnapshot[] }> {
    const recent = await engineStore.listRecentSnapshots(this.store, runId, 25);
    const latest = recent[0];
    if (!latest) throw new RunNotFoundError(runId);
    if (latest.id === snapshotId) return { latest, newer: [] };
    const index = recent.findIndex((s) => s.id === snapshotId);
    const given = recent[index];
    const stale = () => new StaleSnapshotError(runId, snapshotId, latest.id, latest.executionStatus);
    if (index < 0 || !isExecuting(given.executionStatus)) throw stale();
    const newer = recent.slice(0, index);
    const sameExecution = newer.every(
      (s, i) =>
        s.attemptNumber === given.attemptNumber &&
        s.runStatus !== "RETRYING_AFTER_FAILURE" &&
        (isExecuting(s.executionStatus) || (i === 0 && s.executionStatus === "PENDING_CANCEL"))
    );
    if (!sameExecution) throw stale();
    return { latest, newer: newer.reverse() };
  }

  /**
   * Appends a snapshot (and updates the run) in one statement. `createdAt` strictly increases per run,
   * so "newest valid snapshot" is never ambiguous. Re-arms or clears the heartbeat deadline.
   */
  async transition(run: TaskRun, previous: TaskRunExecutionSnapshot | null, input: TransitionInput): Promise<{ run: TaskRun; snapshot: TaskRunExecutionSnapshot }> {
    const now = Date.now();
    const createdAt = new Date(previous ? Math.max(now, previous.createdAt.getTime() + 1) : now);
    const runStatus = input.snapshot.runStatus ?? (input.run?.status as TaskRun["status"] | undefined) ?? run.status;
    const write: SnapshotWrite = {
      ...input.snapshot,
      id: generateInternalId(mintKindOf(run.id)),
      createdAt,
      runStatus,
      previousSnapshotId: previous?.id ?? null,
      environmentId: run.runtimeEnvironmentId,
      environmentType: run.environmentType ?? "PRODUCTION",
      projectId: run.projectId,
      organizationId: run.organizationId,
      attemptNumber: input.snapshot.attemptNumber !== undefined ? input.snapshot.attemptNumber : run.attemptNumber,
      batchId: input.snapshot.batchId !== undefined ? input.snapshot.batchId : run.batchId,
    };
    const updated = await engineStore.writeRunTransition(this.store, run.id, { run: input.run, snapshot: write });
    const snapshot = engineStore.snapshotFromWrite(run.id, write);
    await this.armHeartbeat(run.id, snapshot);
    this.eventBus.emit("executionSnapshotCreated", {
      time: new Date(),
      run: { id: run.id },
      snapshot: { id: snapshot.id, executionStatus: snapshot.executionStatus, description: snapshot.description },
    });
    if (input.run?.status && input.run.status !== run.status) this.emitStatusChanged(updated);
    return { run: updated, snapshot };
  }

  async armHeartbeat(runId: string, snapshot: Pick<TaskRunExecutionSnapshot, "id" | "executionStatus">): Promise<void> {
    const status = snapshot.executionStatus;
    if (HEARTBEAT_STATUSES.includes(status)) {
      const timeout = this.heartbeatTimeouts[status as keyof HeartbeatTimeouts];
      await this.jobs.enqueue({
        id: jobIds.heartbeat(runId),
        job: "heartbeatSnapshot",
        payload: { runId, snapshotId: snapshot.id },
        availableAt: Date.now() + timeout,
      });
    } else {
      await this.jobs.ack(jobIds.heartbeat(runId));
    }
  }

  tenancy(run: Pick<TaskRun, "organizationId" | "projectId" | "runtimeEnvironmentId">) {
    return {
      organization: { id: run.organizationId },
      project: { id: run.projectId },
      environment: { id: run.runtimeEnvironmentId },
    };
  }

  emitStatusChanged(run: TaskRun): void {
    this.eventBus.emit("runStatusChanged", {
      time: new Date(),
      run: { id: run.id, status: run.status, statusReason: run.statusReason, updatedAt: run.updatedAt, createdAt: run.createdAt },
      ...this.tenancy(run),
    });
  }

  async runAfter(effects: AfterEffects): Promise<void> {
    for (const effect of effects) {
      try {
        await effect();
      } catch (error) {
        this.logger.error("engine: post-commit effect failed", { error: describeError(error) });
      }
    }
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

export const consoleLogger: EngineLogger = {
  debug: () => {},
  info: () => {},
  warn: (msg, fields) => console.warn(JSON.stringify({ level: "warn", msg, ...fields })),
  error: (msg, fields) => console.error(JSON.stringify({ level: "error", msg, ...fields })),
};
