import { apiQueries, type TaskRun } from "@internal/run-store";
import { toFriendlyId } from "@runplane/core";
import {
  isFinalInternalStatus,
  ListRunResponseItem,
  RelatedRunDetails,
  RetrieveRunResponse,
  TaskRunError,
  TaskRunExecutionResult,
  metadataObjectFromPacket,
  packetJsonView,
  publicStatusFields,
  serializeTaskRunError,
  triggerFunctionFor,
  type SerializedError,
} from "@runplane/core/schemas";
import type { z } from "zod";
import type { ApiRun } from "~/v3/runs/findRunForApi.server";
import { getRuntime } from "~/services/runtime.server";
import { describeCron } from "~/v3/schedules/cron.server";
import { scheduleIdOfRunKey } from "~/v3/schedules/scheduledPayload.server";

/** How many children a retrieved run lists under `relatedRuns.children`. */
const MAX_CHILDREN = 100;

function annotationsOf(run: TaskRun): Record<string, unknown> {
  return run.annotations && typeof run.annotations === "object" && !Array.isArray(run.annotations)
    ? (run.annotations as Record<string, unknown>)
    : {};
}

/** The key the user gave (kept in `idempotencyKeyOptions`), else the stored hash. */
function idempotencyKeyOf(run: TaskRun): string | null {
  const options = run.idempotencyKeyOptions as { key?: unknown } | null;
  if (run.idempotencyKey && options && typeof options.key === "string") return options.key;
  return run.idempotencyKey;
}

function regionOf(run: TaskRun): string | null {
  const region = annotationsOf(run).region;
  return typeof region === "string" ? region : null;
}

/** Fields shared by retrieve, list items and related runs (the response schemas drop `null`s). */
function commonFields(run: TaskRun) {
  return {
    id: run.friendlyId,
    ...publicStatusFields(run.status),
    taskIdentifier: run.taskIdentifier,
    idempotencyKey: idempotencyKeyOf(run),
    version: run.taskVersion,
    isTest: run.isTest,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    startedAt: run.startedAt,
    finishedAt: run.completedAt,
    delayedUntil: run.delayUntil,
    ttl: run.ttl,
    expiredAt: run.expiredAt,
    tags: [...run.runTags].sort(),
    costInCents: 0,
    baseCostInCents: 0,
    durationMs: run.usageDurationMs,
    metadata: run.metadata ? metadataObjectFromPacket(run.metadata, run.metadataType) : null,
    region: regionOf(run),
  };
}

function relatedFields(run: TaskRun): z.input<typeof RelatedRunDetails> {
  return {
    ...commonFields(run),
    depth: run.depth,
    triggerFunction: triggerFunctionFor({ batchId: run.batchId, resumeParentOnCompletion: run.resumeParentOnCompletion }),
    batchId: run.batchId ? toFriendlyId("batch", run.batchId) : null,
  };
}

/** The stored TaskRunError → the run object's `error`; anything unrecognised keeps its JSON as the message. */
export function runErrorForApi(error: unknown): SerializedError | null {
  if (error === null || error === undefined) return null;
  const parsed = TaskRunError.safeParse(error);
  if (parsed.success) return serializeTaskRunError(parsed.data);
  const loose = error as { message?: unknown; raw?: unknown };
  if (typeof loose.message === "string") return { message: loose.message };
  if (typeof loose.raw === "string") return { message: loose.raw };
  return { message: JSON.stringify(error) };
}

/** The batch's friendly id, for scope checks (`read:batch:<id>`). */
export function batchFriendlyIdOf(run: TaskRun): string | null {
  return run.batchId ? toFriendlyId("batch", run.batchId) : null;
}

/** GET /api/v3/runs/{id} (and the reschedule response): the full run object with related runs. */
export async function presentRetrievedRun(run: ApiRun): Promise<z.output<typeof RetrieveRunResponse> & { isBuffered?: true }> {
  const { runStore, prisma, packets } = getRuntime();
  const relatedIds = [run.parentTaskRunId, run.rootTaskRunId].filter((id): id is string => Boolean(id));
  const scheduleId = scheduleIdOfRunKey(run.idempotencyKey);
  const [related, children, schedule] = await Promise.all([
    run.isBuffered ? [] : apiQueries.findRunsByIds(runStore, run.runtimeEnvironmentId, relatedIds),
    run.isBuffered ? [] : apiQueries.listChildRuns(runStore, run.runtimeEnvironmentId, run.id, MAX_CHILDREN),
    scheduleId ? prisma.taskSchedule.findFirst({ where: { friendlyId: scheduleId, runtimeEnvironmentId: run.runtimeEnvironmentId } }) : null,
  ]);
  const byId = new Map(related.map((r) => [r.id, r]));
  const parent = run.parentTaskRunId ? byId.get(run.parentTaskRunId) : undefined;
  const root = run.rootTaskRunId ? byId.get(run.rootTaskRunId) : undefined;

  const stored = run.payloadType === "application/store";
  const retrieved = RetrieveRunResponse.parse({
    ...relatedFields(run),
    payload: stored ? undefined : packetJsonView(run.payload, run.payloadType),
    output: run.status === "COMPLETED_SUCCESSFULLY" && run.outputType !== "application/store" ? packetJsonView(run.output, run.outputType) : undefined,
    payloadPresignedUrl: stored ? packets.runPacketUrl(run, "payload") : undefined,
    outputPresignedUrl: run.status === "COMPLETED_SUCCESSFULLY" ? packets.runPacketUrl(run, "output") : undefined,
    error: runErrorForApi(run.error),
    schedule: schedule
      ? {
          id: schedule.friendlyId,
          externalId: schedule.externalId,
          deduplicationKey: schedule.deduplicationKey,
          generator: { type: "CRON", expression: schedule.cron, description: describeCron(schedule.cron) },
        }
      : null,
    relatedRuns: {
      root: root ? relatedFields(root) : null,
      parent: parent ? relatedFields(parent) : null,
      children: children.length > 0 ? children.map(relatedFields) : null,
    },
    attemptCount: run.attemptNumber ?? 0,
  });
  // a run still in the mollifier's buffer (no row yet)
  return run.isBuffered ? { ...retrieved, isBuffered: true } : retrieved;
}

export type ListItemEnvironment = { id: string; slug: string };

/** One item of GET /api/v1/runs and /api/v1/projects/{ref}/runs. */
export function presentRunListItem(
  run: TaskRun,
  environment: ListItemEnvironment,
  flags: { isBuffered?: boolean } = {}
): z.output<typeof ListRunResponseItem> & { isBuffered?: true } {
  const item = ListRunResponseItem.parse({
    ...commonFields(run),
    // The list shows the stored key, as the reference does.
    idempotencyKey: run.idempotencyKey,
    env: { id: environment.id, name: environment.slug },
  });
  // a run still in the mollifier's buffer (no row yet)
  return flags.isBuffered ? { ...item, isBuffered: true } : item;
}


/** A final run as `TaskRunExecutionResult` (the raw output packet, or the stored error); null while it is not final. */
export function presentExecutionResult(run: TaskRun): z.output<typeof TaskRunExecutionResult> | null {
  if (!isFinalInternalStatus(run.status)) return null;
  const usage = { durationMs: run.usageDurationMs };
  if (run.status === "COMPLETED_SUCCESSFULLY") {
    return TaskRunExecutionResult.parse({
      ok: true,
      id: run.friendlyId,
      output: run.output,
      outputType: run.outputType,
      usage,
      taskIdentifier: run.taskIdentifier,
    });
  }
  const parsed = TaskRunError.safeParse(run.error);
  const error = parsed.success ? parsed.data : { type: "STRING_ERROR" as const, raw: runErrorForApi(run.error)?.message ?? run.status };
  return TaskRunExecutionResult.parse({ ok: false, id: run.friendlyId, error, usage, taskIdentifier: run.taskIdentifier });
}
