import {
  registerWorker as registerWorkerVersion,
  StaleSnapshotError,
  type CompletedWaitpoint,
  type CompletionInput,
  type ExecutionContext,
  type RegisterWorkerBody,
} from "@internal/run-engine";
import {
  WorkerCompleteAttemptRequest,
  WorkerContinueQuery,
  WorkerDequeueRequest,
  WorkerRegisterRequest,
  WorkerWaitDurationRequest,
  WorkerWaitTokenRequest,
  type WorkerCompleteAttemptResponse,
  type WorkerCompletedWaitpointInput,
  type WorkerContinueResponseInput,
  type WorkerDequeueResponse,
  type WorkerHeartbeatResponse,
  type WorkerRegisterResponse,
  type WorkerTaskRunExecutionInput,
  type WorkerWaitResponse,
} from "@runplane/core/schemas";
import { fromFriendlyId } from "@runplane/core";
import { z } from "zod";
import { getRuntime } from "~/services/runtime.server";
import { registerDeclarativeSchedules, validateDeclarativeSchedules, type DeclarativeScheduleInput } from "~/v3/schedules/declarativeSchedules.server";
import { asStaleSnapshotResponse, readWorkerBody, readWorkerQuery } from "./http.server";
import { longPollSignal } from "./longPolls.server";
import { requireFriendlyId, requireRunInEnvironment, requireSnapshotOfRun, type RunRef, type WorkerEnvironment } from "./runAccess.server";

/**
 * The worker protocol (apps/webapp/docs/worker-protocol.md), one function per route. Each parses its
 * input with the core protocol schema, scopes the run to the caller's environment, calls the engine
 * and shapes the answer. Errors map through httpErrors.server.ts (stale → 409 with latestSnapshotId,
 * a state the run does not allow → 422, unknown or foreign ids → 404).
 */

type RouteParams = { runId?: string; snapshotId?: string };

/** start and heartbeat take no input: the worker sends `{}` (an empty body is fine too). */
const EmptyBody = z.object({}).strict();

/**
 * The snapshot rule (§2) for state-changing calls: the named snapshot must be the run's latest, else
 * 409 with the latest snapshot id and nothing changes (a snapshot id that is not even the run's → 404).
 * The engine also accepts older snapshots of the same execution; the protocol does not, so that a
 * heartbeat from a worker whose run was cancelled meanwhile gets the 409 that tells it so.
 */
export async function staleOrUnknown<T>(ref: RunRef, fn: () => Promise<T>): Promise<T> {
  try {
    if (ref.latest.id !== fromFriendlyId(ref.snapshotId, "snapshot")) {
      throw new StaleSnapshotError(ref.latest.runId, ref.snapshotId, ref.latest.id, ref.latest.executionStatus);
    }
    return await fn();
  } catch (error) {
    if (!(error instanceof StaleSnapshotError)) throw error;
    await requireSnapshotOfRun(ref);
    throw asStaleSnapshotResponse(error);
  }
}

// ---------------------------------------------------------------------------------------------
// §3 register

export async function registerWorker(environment: WorkerEnvironment, request: Request): Promise<WorkerRegisterResponse> {
  const body = await readWorkerBody(request, WorkerRegisterRequest);
  // Tasks may share a queue; a queue none of its tasks limits has no limit of its own (null clears an old one).
  const queueLimits = new Map<string, number | null>();
  for (const task of body.tasks) {
    const name = task.queue?.name ?? `task/${task.id}`;
    const limit = task.queue?.concurrencyLimit;
    if (limit !== undefined || !queueLimits.has(name)) queueLimits.set(name, limit ?? queueLimits.get(name) ?? null);
  }
  const engineBody: RegisterWorkerBody = {
    version: body.version,
    sdkVersion: body.sdkVersion,
    tasks: body.tasks.map((task) => ({
      id: task.id,
      filePath: task.filePath,
      exportName: task.exportName,
      queue: {
        name: task.queue?.name ?? `task/${task.id}`,
        concurrencyLimit: queueLimits.get(task.queue?.name ?? `task/${task.id}`) ?? null,
        releaseConcurrencyOnWaitpoint: task.queue?.releaseConcurrencyOnWaitpoint,
      },
      retry: task.retry,
      maxDuration: task.maxDuration,
      machine: task.machine ? { preset: task.machine } : undefined,
    })),
  };
  const schedules = body.tasks.flatMap((task) => (task.schedule ? [{ taskId: task.id, ...task.schedule }] : []));
  return registerWorkerWithSchedules(environment, engineBody, schedules);
}

/**
 * Registers a worker version and syncs the environment's declarative schedules to it (both doors:
 * this protocol and the trigger.dev CLI's background-workers route). Schedules are validated first,
 * so a bad cron registers nothing.
 */
export async function registerWorkerWithSchedules(
  environment: WorkerEnvironment,
  engineBody: RegisterWorkerBody,
  schedules: DeclarativeScheduleInput[]
): Promise<Awaited<ReturnType<typeof registerWorkerVersion>>> {
  const { prisma, resolver, engine } = getRuntime();
  validateDeclarativeSchedules(schedules);
  const registered = await registerWorkerVersion({ prisma, resolver, engine }, environment, engineBody);
  await registerDeclarativeSchedules({ prisma }, { environment, workerId: registered.worker.id, schedules });
  return registered;
}

// ---------------------------------------------------------------------------------------------
// §4 dequeue (long-poll)

export async function dequeue(environment: WorkerEnvironment, request: Request): Promise<WorkerDequeueResponse> {
  const body = await readWorkerBody(request, WorkerDequeueRequest);
  const signal = longPollSignal(request);
  const runs = await getRuntime().engine.dequeue({
    environmentId: environment.id,
    consumerId: `worker:${body.version ?? "latest"}`,
    maxRuns: body.maxRuns,
    version: body.version,
    waitMs: body.waitMs,
    signal,
  });
  return {
    runs: runs.map((run) => ({
      runId: run.runFriendlyId,
      snapshotId: run.snapshotFriendlyId,
      attemptNumber: run.attemptNumber,
      taskIdentifier: run.taskIdentifier,
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// §5 start

export async function startAttempt(
  environment: WorkerEnvironment,
  request: Request,
  params: RouteParams
): Promise<{ snapshotId: string; execution: WorkerTaskRunExecutionInput; envVars: Record<string, string> }> {
  await readWorkerBody(request, EmptyBody);
  const ref = await requireRunInEnvironment(environment, params);
  const { engine, envVars } = getRuntime();
  const started = await staleOrUnknown(ref, () => engine.startRunAttempt(ref.runId, ref.snapshotId));
  return {
    snapshotId: started.snapshotFriendlyId,
    execution: presentExecution(started.execution),
    envVars: await envVars.valuesForEnvironment(environment.id),
  };
}

function presentExecution(execution: ExecutionContext): WorkerTaskRunExecutionInput {
  const { run } = execution;
  return {
    run: {
      id: run.id,
      payload: run.payload,
      payloadType: run.payloadType,
      tags: run.tags,
      metadata: parseMetadata(run.metadata, run.metadataType),
      isTest: run.isTest,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      idempotencyKey: run.idempotencyKey,
      maxAttempts: run.maxAttempts,
      maxDuration: run.maxDuration,
      concurrencyKey: run.concurrencyKey,
    },
    attempt: execution.attempt,
    task: { id: execution.task.id, filePath: execution.task.filePath, exportName: execution.task.exportName },
    queue: { id: execution.queue.id ?? execution.queue.name, name: execution.queue.name },
    environment: {
      id: execution.environment.id,
      slug: execution.environment.slug,
      type: execution.environment.type as WorkerTaskRunExecutionInput["environment"]["type"],
    },
    organization: { id: execution.organization.id, slug: execution.organization.slug },
    project: { id: execution.project.id, ref: execution.project.ref, slug: execution.project.slug },
    batch: execution.batch ?? null,
  };
}

/** Stored metadata is a JSON (or SuperJSON) string; the worker gets the object. */
export function parseMetadata(raw: string | null, type: string): Record<string, unknown> | null {
  if (!raw) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    const value = type.startsWith("application/super+json") && isObject(parsed) && "json" in parsed ? parsed.json : parsed;
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// §6 heartbeat

export async function heartbeat(environment: WorkerEnvironment, request: Request, params: RouteParams): Promise<WorkerHeartbeatResponse> {
  await readWorkerBody(request, EmptyBody);
  const ref = await requireRunInEnvironment(environment, params);
  await staleOrUnknown(ref, () => getRuntime().engine.heartbeat(ref.runId, ref.snapshotId));
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------
// §7 complete

export async function completeAttempt(
  environment: WorkerEnvironment,
  request: Request,
  params: RouteParams
): Promise<WorkerCompleteAttemptResponse> {
  const { completion } = await readWorkerBody(request, WorkerCompleteAttemptRequest);
  const ref = await requireRunInEnvironment(environment, params);
  const input: CompletionInput = completion.ok
    ? { ok: true, output: completion.output, outputType: completion.outputType, usageDurationMs: completion.usage?.durationMs }
    : { ok: false, error: completion.error, skipRetrying: completion.skipRetrying, usageDurationMs: completion.usage?.durationMs };
  const result = await staleOrUnknown(ref, () => getRuntime().engine.completeRunAttempt(ref.runId, ref.snapshotId, input));
  return { result: { attemptStatus: result.attemptStatus, snapshotId: result.snapshotFriendlyId, retryAt: result.retryAt } };
}

// ---------------------------------------------------------------------------------------------
// §8 waits and continue

export async function waitForDuration(environment: WorkerEnvironment, request: Request, params: RouteParams): Promise<WorkerWaitResponse> {
  const { date } = await readWorkerBody(request, WorkerWaitDurationRequest);
  const ref = await requireRunInEnvironment(environment, params);
  const blocked = await staleOrUnknown(ref, () => getRuntime().engine.waitForDuration(ref.runId, ref.snapshotId, date));
  // The block's EXECUTING_WITH_WAITPOINTS snapshot, even if the run was continued at once (§8).
  return { snapshotId: blocked.blockedSnapshotFriendlyId, waitpointId: blocked.waitpointFriendlyId };
}

export async function waitForToken(environment: WorkerEnvironment, request: Request, params: RouteParams): Promise<WorkerWaitResponse> {
  const body = await readWorkerBody(request, WorkerWaitTokenRequest);
  const ref = await requireRunInEnvironment(environment, params);
  const waitpointId = requireFriendlyId(body.waitpointId, "waitpoint");
  const blocked = await staleOrUnknown(ref, () =>
    getRuntime().engine.blockRunWithWaitpoint(ref.runId, ref.snapshotId, [waitpointId], { timeout: body.timeout })
  );
  return { snapshotId: blocked.blockedSnapshotFriendlyId, waitpointId };
}

export async function continueRun(environment: WorkerEnvironment, request: Request, params: RouteParams): Promise<WorkerContinueResponseInput> {
  const { waitMs } = readWorkerQuery(request, WorkerContinueQuery);
  const ref = await requireRunInEnvironment(environment, params);
  const result = await getRuntime().engine.continueFrom(ref.runId, ref.snapshotId, { waitMs, signal: longPollSignal(request) });
  switch (result.status) {
    case "waiting":
      return { status: "waiting" };
    case "cancelled":
      return { status: "cancelled", snapshotId: result.snapshotFriendlyId };
    case "superseded":
      return { status: "superseded" };
    case "resumed":
      return { status: "resumed", snapshotId: result.snapshotFriendlyId, completedWaitpoints: result.completedWaitpoints.map(presentWaitpoint) };
  }
}

function presentWaitpoint(wp: CompletedWaitpoint): WorkerCompletedWaitpointInput {
  return {
    id: wp.id,
    friendlyId: wp.friendlyId,
    type: wp.type,
    output: wp.output ?? null,
    outputType: wp.outputType,
    outputIsError: wp.outputIsError,
    index: wp.index ?? null,
    completedByTaskRunId: wp.completedByTaskRun?.friendlyId ?? null,
    completedByBatchId: wp.completedByBatch?.friendlyId ?? null,
  };
}
