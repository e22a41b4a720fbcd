import type { RunStore } from "@internal/run-store";
import { fromFriendlyId, toFriendlyId } from "@runplane/core";
import {
  applyMetadataOperations,
  MAX_STORED_METADATA_BYTES,
  metadataObjectFromPacket,
  type JsonObject,
  type MetadataOperation,
  type UpdateMetadataRequestBody,
} from "@runplane/core/schemas";
import type { MollifierBuffer } from "@runplane/redis-worker/mollifier";
import { errorMessage } from "./gate.server";
import { findBufferedRun, runFriendlyIdOf } from "./readFallback.server";
import type { MollifierLog } from "./types.server";

export type BufferedMetadataResult =
  | {
      kind: "applied";
      metadata: JsonObject;
      /** Friendly ids of the run's real parent and root (undefined for a root run). */
      parentRunId?: string;
      rootRunId?: string;
    }
  | { kind: "not_found" }
  | { kind: "busy" }
  | { kind: "metadata_too_large"; bytes: number; maximum: number }
  | { kind: "version_exhausted" };

/**
 * PUT metadata on a buffered run: read the snapshot's metadata and version, compute the new object
 * (operations applied to the existing metadata, `metadata` ignored when operations are given — as on
 * a row), and compare-and-set it against the version read. A concurrent writer makes the CAS fail:
 * retry after a small random backoff, up to `maxRetries` times. `busy`: the entry is being drained
 * (the caller retries once it has a row).
 */
export async function applyMetadataMutationToBufferedRun(
  deps: { buffer: MollifierBuffer | null; runStore?: Pick<RunStore, "findRun">; logger: MollifierLog },
  input: {
    runId: string;
    environmentId: string;
    organizationId?: string;
    body: Pick<UpdateMetadataRequestBody, "metadata" | "operations">;
    maxRetries?: number;
    maximumSize?: number;
    random?: () => number;
  }
): Promise<BufferedMetadataResult> {
  if (!deps.buffer) return { kind: "not_found" };
  const maxRetries = input.maxRetries ?? 12;
  const maximumSize = input.maximumSize ?? MAX_STORED_METADATA_BYTES;
  const random = input.random ?? Math.random;
  const runId = runFriendlyIdOf(input.runId);

  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    const buffered = await findBufferedRun(deps, { runId, environmentId: input.environmentId, organizationId: input.organizationId, throwOnError: true });
    if (!buffered) return { kind: "not_found" };
    if (buffered.entry.status !== "QUEUED") return { kind: "busy" };
    const { run, entry, trigger } = buffered;
    // captured now: a concurrent drain could delete the entry before the fan-out reads it again
    const links = await realParentAndRoot(deps, trigger);

    const existing = metadataObjectFromPacket(run.metadata, run.metadataType);
    const next: JsonObject = Array.isArray(input.body.operations)
      ? applyMetadataOperations(existing, input.body.operations).metadata
      : input.body.metadata !== undefined
        ? input.body.metadata
        : existing;
    const serialised = JSON.stringify(next);
    const bytes = Buffer.byteLength(serialised, "utf8");
    if (bytes > maximumSize) return { kind: "metadata_too_large", bytes, maximum: maximumSize };

    const reply = await deps.buffer.casSetMetadata({ runId, expectedVersion: entry.metadataVersion, metadata: serialised, metadataType: "application/json" });
    switch (reply.kind) {
      case "applied":
        return { kind: "applied", metadata: next, ...links };
      case "not_found":
        return { kind: "not_found" };
      case "busy":
        return { kind: "busy" };
      case "version_conflict":
        deps.logger.debug("mollifier metadata CAS conflict; retrying", { runId, attempt, currentVersion: reply.currentVersion });
        await sleep(Math.floor(random() * (5 + attempt * 5)));
    }
  }
  deps.logger.warn("mollifier metadata CAS retries exhausted", { runId, maxRetries });
  return { kind: "version_exhausted" };
}

/**
 * The parent and root of a buffered run as the materialised row will have them: the snapshot's
 * parent; the root from the snapshot, else the parent's own root, else the parent (when the parent
 * is itself a root). Never guessed: if the parent row cannot be read, the root stays unknown.
 */
async function realParentAndRoot(
  deps: { runStore?: Pick<RunStore, "findRun">; logger: MollifierLog },
  trigger: { parentRunId?: string; rootTaskRunId?: string; environment: { id: string } }
): Promise<{ parentRunId?: string; rootRunId?: string }> {
  const parentRunId = trigger.parentRunId ? toFriendlyId("run", fromFriendlyId(trigger.parentRunId, "run")) : undefined;
  if (!parentRunId) return {};
  if (trigger.rootTaskRunId) return { parentRunId, rootRunId: toFriendlyId("run", fromFriendlyId(trigger.rootTaskRunId, "run")) };
  if (!deps.runStore) return { parentRunId };
  try {
    const parent = await deps.runStore.findRun({ friendlyId: parentRunId }, { id: true, rootTaskRunId: true });
    if (!parent) return { parentRunId };
    return { parentRunId, rootRunId: toFriendlyId("run", parent.rootTaskRunId ?? parent.id) };
  } catch (error) {
    deps.logger.warn("mollifier metadata: could not read the parent run", { parentRunId, error: errorMessage(error) });
    return { parentRunId };
  }
}

export type OperationTarget = { runId: string; operations: MetadataOperation[] | undefined };

/**
 * Fans `parentOperations` / `rootOperations` out to their runs, best-effort and in parallel: each
 * target is updated where it lives (its row through `applyToRow`, which returns false when there is
 * none; else its buffered snapshot). A root run is its own parent and root. Never fails the request.
 */
export async function routeOperationsToRuns(
  deps: { buffer: MollifierBuffer | null; runStore?: Pick<RunStore, "findRun">; logger: MollifierLog },
  input: {
    runId: string;
    environmentId: string;
    organizationId?: string;
    parentRunId?: string;
    rootRunId?: string;
    parentOperations?: MetadataOperation[];
    rootOperations?: MetadataOperation[];
    applyToRow: (runId: string, operations: MetadataOperation[]) => Promise<boolean>;
  }
): Promise<void> {
  const self = runFriendlyIdOf(input.runId);
  // a child whose root could not be determined skips its root operations (the parent is not a proxy)
  const root = input.parentRunId ? input.rootRunId : self;
  if (!root && input.rootOperations?.length) deps.logger.warn("metadata: root of the run unknown; root operations skipped", { runId: self });
  const targets: OperationTarget[] = [
    { runId: input.parentRunId ?? self, operations: input.parentOperations },
    { runId: root ?? "", operations: root ? input.rootOperations : undefined },
  ];
  await Promise.all(
    targets.map(async ({ runId, operations }) => {
      if (!operations || operations.length === 0) return;
      try {
        if (await input.applyToRow(runId, operations)) return;
      } catch (error) {
        deps.logger.warn("metadata: parent/root row update failed", { runId, error: errorMessage(error) });
      }
      try {
        const result = await applyMetadataMutationToBufferedRun(deps, {
          runId,
          environmentId: input.environmentId,
          organizationId: input.organizationId,
          body: { operations },
        });
        if (result.kind !== "applied") deps.logger.warn("metadata: parent/root buffer update did not apply", { runId, result: result.kind });
      } catch (error) {
        deps.logger.warn("metadata: parent/root buffer update failed", { runId, error: errorMessage(error) });
      }
    })
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
