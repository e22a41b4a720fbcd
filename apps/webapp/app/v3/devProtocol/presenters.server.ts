import type { CompletedWaitpoint, ExecutionContext } from "@internal/run-engine";
import type { TaskRunExecutionSnapshot } from "@internal/run-store";
import { toFriendlyId } from "@runplane/core";
import { getRuntime } from "~/services/runtime.server";
import { parseMetadata } from "~/v3/workerProtocol/workerProtocol.server";
import { machinePresetResources } from "@runplane/core/schemas";

/**
 * Engine results in the shapes the trigger.dev 4.8.3 CLI parses (`@trigger.dev/core` runEngine and
 * workload schemas): snapshots, run heads, the task execution and completed waitpoints.
 */

export function presentSnapshot(snapshot: TaskRunExecutionSnapshot) {
  return {
    id: snapshot.id,
    friendlyId: toFriendlyId("snapshot", snapshot.id),
    executionStatus: snapshot.executionStatus,
    description: snapshot.description,
    createdAt: snapshot.createdAt,
  };
}

export function presentRunHead(snapshot: TaskRunExecutionSnapshot) {
  return {
    id: snapshot.runId,
    friendlyId: toFriendlyId("run", snapshot.runId),
    status: snapshot.runStatus,
    attemptNumber: snapshot.attemptNumber ?? null,
  };
}

/** `{snapshot, run}`: what start, complete and snapshots/latest all carry. */
export function presentExecutionResult(snapshot: TaskRunExecutionSnapshot) {
  return { snapshot: presentSnapshot(snapshot), run: presentRunHead(snapshot) };
}

export function presentTaskRunExecution(execution: ExecutionContext) {
  const { run } = execution;
  const metadata = parseMetadata(run.metadata, run.metadataType);
  return {
    attempt: { number: execution.attempt.number, startedAt: execution.attempt.startedAt },
    run: {
      id: run.id,
      payload: run.payload,
      payloadType: run.payloadType,
      tags: run.tags,
      isTest: run.isTest,
      createdAt: run.createdAt,
      startedAt: run.startedAt ?? execution.attempt.startedAt,
      ...(run.idempotencyKey ? { idempotencyKey: run.idempotencyKey } : {}),
      ...(run.maxAttempts !== null ? { maxAttempts: run.maxAttempts } : {}),
      ...(run.version ? { version: run.version } : {}),
      ...(metadata ? { metadata } : {}),
      ...(run.maxDuration !== null ? { maxDuration: run.maxDuration } : {}),
      priority: run.priority,
      ...(run.parentTaskRunId ? { parentTaskRunId: toFriendlyId("run", run.parentTaskRunId) } : {}),
      ...(run.rootTaskRunId ? { rootTaskRunId: toFriendlyId("run", run.rootTaskRunId) } : {}),
      traceContext: {},
    },
    task: { id: execution.task.id, filePath: execution.task.filePath, ...(execution.task.exportName ? { exportName: execution.task.exportName } : {}) },
    queue: { id: execution.queue.id ?? execution.queue.name, name: execution.queue.name },
    environment: { id: execution.environment.id, slug: execution.environment.slug, type: execution.environment.type },
    organization: execution.organization,
    project: execution.project,
    machine: machinePresetResources(execution.machine.name),
    ...(execution.batch ? { batch: execution.batch } : {}),
  };
}

/**
 * A completed waitpoint as the task runtime resolves it: a batch item's RUN waitpoint names its batch
 * (`completedByTaskRun.batch`), because the runtime keys batch items by `<batch>_<index>`.
 */
export async function presentCompletedWaitpoints(waitpoints: CompletedWaitpoint[]) {
  const out = [];
  for (const wp of waitpoints) {
    let completedByTaskRun: { id: string; friendlyId: string; batch?: { id: string; friendlyId: string } } | undefined;
    if (wp.completedByTaskRun) {
      completedByTaskRun = { id: wp.completedByTaskRun.id, friendlyId: wp.completedByTaskRun.friendlyId };
      if (wp.index !== undefined && wp.index !== null) {
        const child = await getRuntime().runStore.findRun({ id: wp.completedByTaskRun.id }, { batchId: true });
        if (child?.batchId) completedByTaskRun.batch = { id: child.batchId, friendlyId: toFriendlyId("batch", child.batchId) };
      }
    }
    out.push({
      id: wp.id,
      friendlyId: wp.friendlyId,
      type: wp.type,
      completedAt: wp.completedAt ?? new Date(),
      ...(wp.index !== undefined && wp.index !== null ? { index: wp.index } : {}),
      ...(wp.idempotencyKey ? { idempotencyKey: wp.idempotencyKey } : {}),
      ...(completedByTaskRun ? { completedByTaskRun } : {}),
      ...(wp.completedAfter ? { completedAfter: wp.completedAfter } : {}),
      ...(wp.completedByBatch ? { completedByBatch: wp.completedByBatch } : {}),
      ...(wp.output !== null && wp.output !== undefined ? { output: wp.output } : {}),
      ...(wp.outputType ? { outputType: wp.outputType } : {}),
      outputIsError: wp.outputIsError,
    });
  }
  return out;
}
