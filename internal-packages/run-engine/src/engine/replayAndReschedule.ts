import { type TaskRun, engineStore } from "@internal/run-store";
import { UnprocessableError } from "@runplane/core";
import { jobIds, runIdOf } from "./core.js";
import { type EngineDeps, EnginePart } from "./enginePart.js";
import type { Triggering } from "./trigger.js";
import type { EngineEnvironment, TriggerInput, TriggerResult } from "./types.js";

/** Replay (a fresh run from an old one) and moving or releasing delayed runs. */
export class ReplayAndReschedule extends EnginePart {
  constructor(deps: EngineDeps, private readonly triggering: Triggering) {
    super(deps);
  }

  /** A fresh run with the original's task, payload and options; `replayedFromTaskRunFriendlyId` links them. */
  async replay(runIdOrFriendly: string, overrides: Partial<TriggerInput> = {}): Promise<TriggerResult> {
    const original = await this.core.requireRun(runIdOf(runIdOrFriendly));
    const environment =
      overrides.environment ?? ((await this.core.resolver.resolveEnv(original.runtimeEnvironmentId)) as EngineEnvironment | null) ?? undefined;
    return this.triggering.trigger(replayTriggerInput(original, { ...overrides, environment }));
  }

  /** Moves a delayed run's start. Only DELAYED runs (UnprocessableError otherwise). */
  async rescheduleRun(runIdOrFriendly: string, delayUntil: Date): Promise<TaskRun> {
    const runId = runIdOf(runIdOrFriendly);
    return this.core.lockRun(runId, async () => {
      const run = await this.core.requireRun(runId);
      const latest = await this.core.latestSnapshot(runId);
      if (!latest || run.status !== "DELAYED" || latest.executionStatus !== "DELAYED") {
        throw new UnprocessableError(`Cannot reschedule a run that is not delayed (status ${run.status})`);
      }
      const { run: updated } = await this.core.transition(run, latest, {
        run: { delayUntil, queueTimestamp: delayUntil },
        snapshot: { executionStatus: "DELAYED", description: "Delayed run was rescheduled to a future date" },
      });
      await this.core.jobs.enqueue({ id: jobIds.delayed(runId), job: "enqueueDelayedRun", payload: { runId }, availableAt: delayUntil });
      return updated;
    });
  }

  async enqueueDelayedRun(runId: string): Promise<void> {
    await this.core.lockRun(runId, async () => {
      const run = await engineStore.findRunById(this.core.store, runId);
      const latest = await this.core.latestSnapshot(runId);
      if (!run || !latest || latest.executionStatus !== "DELAYED" || run.status !== "DELAYED") return;
      if (run.delayUntil && run.delayUntil.getTime() > Date.now() + 50) {
        await this.core.jobs.enqueue({ id: jobIds.delayed(runId), job: "enqueueDelayedRun", payload: { runId }, availableAt: run.delayUntil });
        return;
      }
      await this.queueRepair.queueDelayedRun(run, latest);
    });
  }
}

/**
 * The trigger input of a replay: the original's task, payload and options, the overrides on top, and
 * the link back. Pure, so a run that has no row yet (a buffered trigger) replays the same way. Without
 * an environment override the original's environment ids are used.
 */
export function replayTriggerInput(
  original: Pick<
    TaskRun,
    | "friendlyId" | "taskIdentifier" | "payload" | "payloadType" | "queue" | "concurrencyKey" | "runTags" | "seedMetadata"
    | "seedMetadataType" | "maxAttempts" | "machinePreset" | "maxDurationInSeconds" | "ttl" | "isTest"
    | "runtimeEnvironmentId" | "environmentType" | "projectId" | "organizationId"
  >,
  overrides: Partial<TriggerInput> = {}
): TriggerInput {
  return {
    taskIdentifier: original.taskIdentifier,
    payload: original.payload,
    payloadType: original.payloadType,
    queue: original.queue,
    concurrencyKey: original.concurrencyKey ?? undefined,
    tags: original.runTags,
    metadata: original.seedMetadata ?? undefined,
    metadataType: original.seedMetadataType,
    maxAttempts: original.maxAttempts ?? undefined,
    machine: original.machinePreset ?? undefined,
    maxDuration: original.maxDurationInSeconds ?? undefined,
    ttl: original.ttl ?? undefined,
    isTest: original.isTest,
    ...overrides,
    environment: overrides.environment ?? {
      id: original.runtimeEnvironmentId,
      type: (original.environmentType ?? "PRODUCTION") as EngineEnvironment["type"],
      projectId: original.projectId,
      organizationId: original.organizationId,
    },
    replayedFrom: original.friendlyId,
  };
}
