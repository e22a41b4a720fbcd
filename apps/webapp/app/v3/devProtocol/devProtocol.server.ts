import type { CompletionInput } from "@internal/run-engine";
import { NotFoundError } from "@runplane/core";
import { z } from "zod";
import { getRuntime } from "~/services/runtime.server";
import { readWorkerBody } from "~/v3/workerProtocol/http.server";
import { requireFriendlyId, requireRunInEnvironment, type WorkerEnvironment } from "~/v3/workerProtocol/runAccess.server";
import { staleOrUnknown } from "~/v3/workerProtocol/workerProtocol.server";
import { DevCompleteAttemptRequest, DevDebugLogRequest, DevDequeueRequest, DevDisconnectRequest, DevHeartbeatRequest } from "./schemas.server";
import { presentCompletedWaitpoints, presentExecutionResult, presentSnapshot, presentTaskRunExecution } from "./presenters.server";
import { machinePresetResources } from "@runplane/core/schemas";

/**
 * The trigger.dev CLI's dev protocol (`/engine/v1/dev/*`, docs/trigger-dev-compatibility.md): thin
 * adapters over the engine calls and snapshot rule of the worker protocol (`/api/v1/worker/*`), shaped
 * as the CLI 4.8.3 parses them. Authenticated with the DEVELOPMENT environment's secret key.
 */

type RouteParams = { runId?: string; snapshotId?: string };

/** How often the CLI polls dequeue, with and without a run in hand (ms). */
const DEQUEUE_INTERVAL_WITH_RUN_MS = 250;
const DEQUEUE_INTERVAL_WITHOUT_RUN_MS = 1000;

export function devConfig(environment: WorkerEnvironment) {
  return {
    environmentId: environment.id,
    dequeueIntervalWithRun: DEQUEUE_INTERVAL_WITH_RUN_MS,
    dequeueIntervalWithoutRun: DEQUEUE_INTERVAL_WITHOUT_RUN_MS,
    maxConcurrentRuns: environment.maximumConcurrencyLimit,
    engineUrl: getRuntime().env.APP_ORIGIN,
  };
}

/**
 * Dequeues for the CLI's current worker version first, then its older ones (runs locked to a version
 * it still has loaded). One run per call: the CLI asks again every 250 ms while it has capacity.
 */
export async function devDequeue(environment: WorkerEnvironment, request: Request) {
  const body = await readWorkerBody(request, DevDequeueRequest);
  const { prisma, engine } = getRuntime();
  for (const workerFriendlyId of [body.currentWorker, ...body.oldWorkers]) {
    const worker = await prisma.backgroundWorker.findFirst({
      where: { friendlyId: workerFriendlyId, runtimeEnvironmentId: environment.id },
      select: { id: true, friendlyId: true, version: true },
    });
    if (!worker) continue;
    const runs = await engine.dequeue({ environmentId: environment.id, consumerId: `dev:${worker.friendlyId}`, maxRuns: 1, version: worker.version, waitMs: 0 });
    const messages = [];
    for (const run of runs) {
      const snapshot = await engine.getSnapshot(run.runId, run.snapshotId);
      if (!snapshot) continue;
      messages.push({
        version: "1" as const,
        snapshot: presentSnapshot(snapshot),
        dequeuedAt: new Date(),
        completedWaitpoints: await presentCompletedWaitpoints(run.completedWaitpoints),
        backgroundWorker: { id: worker.id, friendlyId: worker.friendlyId, version: worker.version },
        deployment: {},
        run: {
          id: run.runId,
          friendlyId: run.runFriendlyId,
          isTest: false,
          isReplay: false,
          machine: machinePresetResources(null),
          attemptNumber: run.attemptNumber,
          masterQueue: `dev:${environment.id}`,
          traceContext: {},
        },
        environment: { id: environment.id, type: environment.type },
        organization: { id: environment.organizationId },
        project: { id: environment.projectId },
      });
    }
    if (messages.length > 0) return { dequeuedMessages: messages };
  }
  return { dequeuedMessages: [] };
}

/**
 * The variables the task process needs beyond the CLI's own: where to send its spans and logs, and
 * the environment's key for the receiver (the OTLP exporters read OTEL_EXPORTER_OTLP_HEADERS).
 */
function attemptEnvVars(environment: WorkerEnvironment): Record<string, string> {
  const otel = `${getRuntime().env.APP_ORIGIN}/otel`;
  return {
    TRIGGER_OTEL_EXPORTER_OTLP_ENDPOINT: otel,
    OTEL_EXPORTER_OTLP_ENDPOINT: otel,
    OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${environment.apiKey}`,
  };
}

export async function devStartAttempt(environment: WorkerEnvironment, params: RouteParams) {
  const ref = await requireRunInEnvironment(environment, params);
  const { engine } = getRuntime();
  const started = await staleOrUnknown(ref, () => engine.startRunAttempt(ref.runId, ref.snapshotId));
  const snapshot = await engine.getSnapshot(ref.runId, started.snapshotId);
  if (!snapshot) throw new NotFoundError("Snapshot not found");
  const execution = presentTaskRunExecution(started.execution);
  return { ...presentExecutionResult(snapshot), execution, envVars: attemptEnvVars(environment) };
}

/**
 * The CLI decides retries itself (from the task's retry options): a failure with `retry` is retried
 * after its delay, one without is final. The engine still caps attempts at the run's maximum.
 */
export async function devCompleteAttempt(environment: WorkerEnvironment, request: Request, params: RouteParams) {
  const { completion } = await readWorkerBody(request, DevCompleteAttemptRequest);
  const ref = await requireRunInEnvironment(environment, params);
  const input: CompletionInput = completion.ok
    ? {
        ok: true,
        output: completion.output,
        outputType: completion.outputType,
        usageDurationMs: completion.usage?.durationMs,
        ...(completion.flushedMetadata?.data !== undefined ? { metadata: completion.flushedMetadata.data, metadataType: completion.flushedMetadata.dataType } : {}),
      }
    : {
        ok: false,
        error: completion.error,
        skipRetrying: completion.skippedRetrying === true || !completion.retry,
        ...(completion.retry ? { retry: { delayMs: completion.retry.delay } } : {}),
        usageDurationMs: completion.usage?.durationMs,
      };
  const { engine } = getRuntime();
  const result = await staleOrUnknown(ref, () => engine.completeRunAttempt(ref.runId, ref.snapshotId, input));
  const snapshot = await engine.getSnapshot(ref.runId, result.snapshotId);
  if (!snapshot) throw new NotFoundError("Snapshot not found");
  return { result: { attemptStatus: result.attemptStatus, ...presentExecutionResult(snapshot) } };
}

export async function devHeartbeat(environment: WorkerEnvironment, request: Request, params: RouteParams) {
  await readWorkerBody(request, DevHeartbeatRequest);
  const ref = await requireRunInEnvironment(environment, params);
  await staleOrUnknown(ref, () => getRuntime().engine.heartbeat(ref.runId, ref.snapshotId));
  return { ok: true as const };
}

/** The run's latest snapshot with the waitpoints it carries: how the CLI learns of resumes and cancels. */
export async function devLatestSnapshot(environment: WorkerEnvironment, params: RouteParams) {
  const runId = requireFriendlyId(params.runId, "run");
  const { engine } = getRuntime();
  const latest = await engine.getLatestSnapshot(runId);
  if (!latest || latest.environmentId !== environment.id) throw new NotFoundError("Run not found");
  const completed = await engine.waitpoints.completedWaitpointsFor(latest.runId, latest);
  return {
    execution: {
      version: "1" as const,
      ...presentExecutionResult(latest),
      completedWaitpoints: await presentCompletedWaitpoints(completed),
    },
  };
}

/** The CLI's debug lines about a run: logged at debug level with the run id (no storage of their own). */
export async function devDebugLog(environment: WorkerEnvironment, request: Request, params: RouteParams) {
  const runId = requireFriendlyId(params.runId, "run");
  const body = await readWorkerBody(request, DevDebugLogRequest);
  getRuntime().logger.debug(`dev cli: ${body.message}`, { runId, environmentId: environment.id, ...body.properties });
  return { ok: true };
}

/** The CLI is exiting: its still-running runs are cancelled (they cannot finish without it). */
export async function devDisconnect(environment: WorkerEnvironment, request: Request) {
  const body = await readWorkerBody(request, DevDisconnectRequest);
  const { engine } = getRuntime();
  let cancelled = 0;
  for (const raw of body.runFriendlyIds) {
    const runId = z.string().startsWith("run_").safeParse(raw).success ? raw : null;
    if (!runId) continue;
    const latest = await engine.getLatestSnapshot(runId).catch(() => null);
    if (!latest || latest.environmentId !== environment.id || latest.executionStatus === "FINISHED") continue;
    await engine.cancelRun(runId, { reason: "The dev CLI disconnected", finalize: true });
    cancelled++;
  }
  return { cancelled };
}
