/**
 * The mollifier behind the REST API's seams: the trigger diversion, the one run lookup, the run
 * list, and each run mutation. Every function here is called from one line in the seam file.
 */
import type { TaskRun } from "@internal/run-store";
import { NotFoundError, PayloadTooLargeError, ServiceUnavailableError, UnprocessableError, fromFriendlyId, toFriendlyId } from "@runplane/core";
import {
  ErrorMessage,
  MAX_STORED_METADATA_BYTES,
  MAX_TAGS_PER_RUN,
  parseDurationMs,
  type JsonObject,
  type ListRunsFilters,
  type MetadataOperation,
  type UpdateMetadataRequestBody,
} from "@runplane/core/schemas";
import { setTriggerDiversion, type TriggerDiversion } from "~/runEngine/triggerDiversion.server";
import { getRuntime, type Runtime } from "~/services/runtime.server";
import { applyMetadataMutationToBufferedRun } from "./applyMetadataMutation.server";
import { resetIdempotencyKeyEverywhere } from "./idempotency.server";
import { listRunsWithBuffered, type ListPosition } from "./listFallback.server";
import { mutateWithFallback, waitForMaterialisation } from "./mutateWithFallback.server";
import { findRunWithMollifierFallback } from "./readFallback.server";
import { triggerWithMollifier } from "./triggerWithMollifier.server";

const MATERIALISING = "Run materialising, retry shortly";

function deps(runtime: Runtime = getRuntime()) {
  const { mollifier, runStore } = runtime;
  return { runStore, buffer: mollifier.buffer, logger: mollifier.logger };
}

// ── trigger ─────────────────────────────────────────────────────────────────────────────────────

/** Installs the trigger diversion (boot). */
export function installMollifierDiversion(runtime: Runtime): void {
  const { mollifier, engine, runStore } = runtime;
  const diversion: TriggerDiversion = {
    async divert(input) {
      let trigger = input.trigger;
      return triggerWithMollifier(
        { ...deps(runtime), config: mollifier.config, evaluateTrip: mollifier.evaluateTrip, mintKind: mollifier.mintKind },
        {
          trigger,
          orgFeatureFlags: input.environment.organization?.featureFlags,
          options: {
            debounce: input.options.debounce,
            oneTimeUseToken: input.options.oneTimeUse ? "one-time-use" : undefined,
            resumeParentOnCompletion: input.options.resumeParentOnCompletion,
            isBatchItem: input.options.isBatchItem,
          },
        },
        {
          // not diverted: the service calls the engine itself
          passThrough: async () => undefined,
          // diverted to the engine here because the idempotency claim must be published after it
          next: async () => {
            const { run, isCached } = await engine.trigger(trigger);
            return { friendlyId: run.friendlyId, isCached };
          },
          runIdOf: (result) => result!.friendlyId,
          buffered: async (result) => ({ friendlyId: result.id, isCached: result.isCached }),
          beforeBuffer: async () => {
            // the row will take its root from the parent; the snapshot carries it so buffered reads
            // (and parent/root metadata routing) see the real root, never the parent standing in
            if (trigger.parentRunId && !trigger.rootTaskRunId) {
              const parent = await runStore.findRun({ friendlyId: trigger.parentRunId }, { id: true, rootTaskRunId: true });
              if (parent) trigger = { ...trigger, rootTaskRunId: toFriendlyId("run", parent.rootTaskRunId ?? parent.id) };
            }
            return trigger;
          },
        }
      );
    },
  };
  setTriggerDiversion(diversion);
}

// ── reads ───────────────────────────────────────────────────────────────────────────────────────

/** The run by id in the environment: its row, else its buffered trigger (marked `isBuffered`). */
export async function findRunOrBuffered(environmentId: string, runId: string): Promise<(TaskRun & { isBuffered?: boolean }) | null> {
  const found = await findRunWithMollifierFallback(deps(), { runId, environmentId });
  if (!found) return null;
  return found.isBuffered ? { ...found.run, isBuffered: true } : found.run;
}

/**
 * Merges the environments' buffered runs into one newest-first list page (forward pages only:
 * `page[before]` pages show rows). Returns the merged rows and whether more exist.
 */
export async function mergeBufferedIntoListPage(input: {
  environmentIds: string[];
  filters: ListRunsFilters;
  after?: ListPosition;
  rows: TaskRun[];
  hasMore: boolean;
}): Promise<{ rows: Array<TaskRun & { isBuffered?: boolean }>; hasMore: boolean }> {
  const limit = input.filters.pageSize;
  let createdFrom = input.filters.createdFrom;
  if (input.filters.period) {
    const ms = parseDurationMs(input.filters.period);
    if (ms !== undefined) {
      const since = new Date(Date.now() - ms);
      if (!createdFrom || since > createdFrom) createdFrom = since;
    }
  }
  const filters = { ...input.filters, createdFrom };
  const pages = await Promise.all(
    input.environmentIds.map((environmentId) =>
      listRunsWithBuffered(deps(), { environmentId, limit: limit + 1, after: input.after, filters, pgPage: async () => [] })
    )
  );
  const buffered = pages.flat().map((r) => r.run);
  if (buffered.length === 0) return { rows: input.rows as Array<TaskRun & { isBuffered?: boolean }>, hasMore: input.hasMore };
  const seen = new Set(input.rows.map((r) => r.id));
  const merged: Array<TaskRun & { isBuffered?: boolean }> = [...input.rows, ...buffered.filter((r) => !seen.has(r.id)).map((r) => ({ ...r, isBuffered: true }))].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  );
  return { rows: merged.slice(0, limit), hasMore: input.hasMore || merged.length > limit };
}

// ── mutations ───────────────────────────────────────────────────────────────────────────────────

function outcomeOrThrow<T>(outcome: { kind: string; result?: T }): T {
  if (outcome.kind === "not_found") throw new NotFoundError(ErrorMessage.runNotFound);
  if (outcome.kind === "timed_out") throw new ServiceUnavailableError("Run materialisation timed out");
  return outcome.result as T;
}

/** Cancel a buffered run: stamped on the snapshot (the drainer writes a CANCELED row), or on its row. */
export async function cancelBufferedRun(environmentId: string, runId: string, pgCancel: (row: TaskRun) => Promise<unknown>): Promise<{ id: string }> {
  const outcome = await mutateWithFallback(deps(), {
    runId,
    environmentId,
    pgMutation: async (row) => {
      await pgCancel(row);
      return { id: row.friendlyId };
    },
    bufferPatch: () => ({ type: "mark_cancelled", cancelledAt: new Date(), cancelReason: "Canceled by user" }),
    synthesisedResponse: (buffered) => ({ id: buffered.run.friendlyId }),
  });
  return outcomeOrThrow(outcome);
}

export async function addTagsToBufferedRun(
  environmentId: string,
  runId: string,
  tags: string[],
  pgAddTags: (row: TaskRun) => Promise<{ message: string }>
): Promise<{ message: string }> {
  const outcome = await mutateWithFallback(deps(), {
    runId,
    environmentId,
    pgMutation: pgAddTags,
    bufferPatch: () => ({ type: "append_tags", tags, maxTags: MAX_TAGS_PER_RUN }),
    synthesisedResponse: (buffered, reply) => ({ message: `Successfully set ${reply.addedTags ?? 0} new tags on run ${buffered.run.friendlyId}` }),
    rejectedResponse: (_buffered, reply) => {
      throw new UnprocessableError(ErrorMessage.tooManyTags(reply.tagCount));
    },
  });
  return outcomeOrThrow(outcome);
}

export async function rescheduleBufferedRun(
  environmentId: string,
  runId: string,
  delayUntil: Date,
  pgReschedule: (row: TaskRun) => Promise<TaskRun>
): Promise<TaskRun & { isBuffered?: boolean }> {
  const outcome = await mutateWithFallback<(TaskRun & { isBuffered?: boolean }) | UnprocessableError>(deps(), {
    runId,
    environmentId,
    pgMutation: pgReschedule,
    bufferPatch: (buffered) =>
      buffered.run.status === "DELAYED" ? { type: "set_delay", delayUntil } : { reject: new UnprocessableError(ErrorMessage.rescheduleNotDelayed) },
    synthesisedResponse: (buffered) => ({ ...buffered.run, delayUntil, queueTimestamp: delayUntil, isBuffered: true }),
  });
  const result = outcomeOrThrow(outcome);
  if (result instanceof Error) throw result;
  return result;
}

/**
 * PUT metadata on a buffered run: its own metadata by compare-and-set on the snapshot; parent and
 * root operations on the real parent and root (rows, through `writeRow`), or on itself when it is
 * the root. A run being drained is waited for, then handled as a row (`asRow`).
 */
export async function updateBufferedRunMetadata(
  environmentId: string,
  runId: string,
  body: UpdateMetadataRequestBody,
  handlers: {
    asRow: () => Promise<{ metadata: JsonObject }>;
    writeRowOperations: (runId: string, operations: MetadataOperation[]) => Promise<void>;
  }
): Promise<{ metadata: JsonObject }> {
  const d = deps();
  const result = await applyMetadataMutationToBufferedRun(d, { runId, environmentId, body, maximumSize: MAX_STORED_METADATA_BYTES });
  switch (result.kind) {
    case "not_found":
    case "busy": {
      if (await waitForMaterialisation(d, { runId, environmentId, timeoutMs: getRuntime().mollifier.config.mutateSafetyNetMs })) return handlers.asRow();
      if (result.kind === "not_found") throw new NotFoundError(ErrorMessage.runNotFound);
      throw new ServiceUnavailableError(MATERIALISING);
    }
    case "metadata_too_large":
      throw new PayloadTooLargeError(`Metadata exceeds the maximum size of ${result.maximum} bytes`);
    case "version_exhausted":
      throw new ServiceUnavailableError("Metadata write contention; retry shortly");
    case "applied":
      break;
  }
  let metadata = result.metadata;
  const self = toFriendlyId("run", fromFriendlyId(runId, "run"));
  for (const [target, operations] of [
    [result.parentRunId ?? self, body.parentOperations],
    [result.parentRunId ? result.rootRunId : self, body.rootOperations],
  ] as const) {
    if (!operations || operations.length === 0) continue;
    if (!target) {
      d.logger.warn("metadata: root of a buffered run unknown; root operations skipped", { runId: self });
      continue;
    }
    if (target === self) {
      const own = await applyMetadataMutationToBufferedRun(d, { runId, environmentId, body: { operations } });
      if (own.kind === "applied") metadata = own.metadata;
      else d.logger.warn("metadata: buffered run's own parent/root operations did not apply", { runId: self, result: own.kind });
      continue;
    }
    await handlers.writeRowOperations(target, operations).catch((error: unknown) =>
      d.logger.warn("metadata: parent/root update failed", { runId: target, error: error instanceof Error ? error.message : String(error) })
    );
  }
  return { metadata };
}

/** Reset an idempotency key in Postgres and in the buffer (503 when the buffer's state is unknown). */
export async function resetIdempotencyKeyWithBuffer(environmentId: string, taskIdentifier: string, key: string): Promise<boolean> {
  const { engine } = getRuntime();
  const outcome = await resetIdempotencyKeyEverywhere(deps(), {
    envId: environmentId,
    taskIdentifier,
    idempotencyKey: key,
    pgReset: async () => {
      try {
        return await engine.resetIdempotencyKey(environmentId, taskIdentifier, key);
      } catch (error) {
        if (error instanceof NotFoundError) return 0;
        throw error;
      }
    },
  });
  return outcome.kind === "reset";
}
