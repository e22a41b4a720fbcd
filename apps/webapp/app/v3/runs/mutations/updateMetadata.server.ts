import { apiQueries, type TaskRun } from "@internal/run-store";
import { findRunForApi } from "~/v3/runs/findRunForApi.server";
import { NotFoundError, PayloadTooLargeError, UnprocessableError, ValidationError, toFriendlyId } from "@runplane/core";
import {
  isFinalInternalStatus,
  ErrorMessage,
  MAX_STORED_METADATA_BYTES,
  applyMetadataOperations,
  isSafeMetadataKey,
  metadataObjectFromPacket,
  type JsonObject,
  type MetadataOperation,
  type UpdateMetadataRequestBody,
} from "@runplane/core/schemas";
import { getRuntime } from "~/services/runtime.server";
import { updateBufferedRunMetadata } from "~/v3/mollifier/apiWiring.server";
import { requireRunForApi, type ApiEnvironmentRef } from "../findRunForApi.server";

/** A finished run's metadata may still be written this long after it completed (late flushes). */
const COMPLETED_GRACE_MS = 3600_000;

function checkKeys(field: string, operations: MetadataOperation[] | undefined): void {
  operations?.forEach((operation, index) => {
    if (operation.type !== "update" && !isSafeMetadataKey(operation.key)) {
      throw new ValidationError(`${field}.${index}.key: "${operation.key}" is not an allowed metadata key`);
    }
  });
}

async function reread(run: TaskRun): Promise<TaskRun> {
  const fresh = await findRunForApi({ id: run.runtimeEnvironmentId }, run.friendlyId);
  if (!fresh) throw new NotFoundError(ErrorMessage.runNotFound);
  return fresh;
}

/**
 * Read-modify-write of one run's metadata under optimistic locking (metadataVersion): `change` gets the
 * current object and returns the next; a concurrent writer makes it start over. Live runs go through
 * the engine (it emits the change); a finished run may still be written for an hour after it
 * completed (late flushes), then 422.
 */
async function writeMetadata(start: TaskRun, change: (current: JsonObject) => JsonObject): Promise<TaskRun> {
  const { engine, runStore } = getRuntime();
  let run = start;
  for (let attempt = 0; attempt < 10; attempt++) {
    const final = isFinalInternalStatus(run.status);
    if (final && run.completedAt && Date.now() - run.completedAt.getTime() > COMPLETED_GRACE_MS) {
      throw new UnprocessableError(ErrorMessage.metadataRunCompleted);
    }
    const next = JSON.stringify(change(metadataObjectFromPacket(run.metadata, run.metadataType)));
    if (Buffer.byteLength(next, "utf8") > MAX_STORED_METADATA_BYTES) {
      throw new PayloadTooLargeError(`Metadata exceeds the maximum size of ${MAX_STORED_METADATA_BYTES} bytes`);
    }
    if (final) {
      const updated = await apiQueries.compareAndSetRunMetadata(runStore, run.id, {
        expectedVersion: run.metadataVersion,
        metadata: next,
        metadataType: "application/json",
      });
      if (updated) {
        engine.eventBus.emit("runMetadataUpdated", {
          time: new Date(),
          run: { id: updated.id, metadata: updated.metadata, metadataType: updated.metadataType },
          environment: { id: updated.runtimeEnvironmentId },
        });
        return updated;
      }
    } else {
      try {
        return await engine.updateMetadata(run.id, { metadata: next, metadataType: "application/json", expectedVersion: run.metadataVersion });
      } catch (error) {
        if (!(error instanceof UnprocessableError)) throw error;
        const fresh = await reread(run);
        // Neither a concurrent write nor a completion: a genuine refusal.
        if (fresh.metadataVersion === run.metadataVersion && isFinalInternalStatus(fresh.status) === final) throw error;
      }
    }
    run = await reread(run);
  }
  throw new UnprocessableError("Metadata is being changed concurrently; try again");
}

/** The run `parentOperations` / `rootOperations` apply to: the parent / root, or the run itself at the top. */
async function relative(run: TaskRun, which: "parent" | "root"): Promise<TaskRun> {
  const id = which === "parent" ? run.parentTaskRunId : run.rootTaskRunId;
  if (!id) return run;
  return (await findRunForApi({ id: run.runtimeEnvironmentId }, toFriendlyId("run", id))) ?? run;
}

/**
 * PUT /api/v1/runs/{id}/metadata. `operations` are applied to the stored metadata (without them,
 * `metadata` replaces it); `parentOperations` / `rootOperations` go to the parent and root runs.
 * Returns the run's metadata afterwards.
 */
export async function updateMetadataForApi(
  environment: ApiEnvironmentRef,
  runId: string,
  body: UpdateMetadataRequestBody
): Promise<{ metadata: JsonObject }> {
  checkKeys("operations", body.operations);
  checkKeys("parentOperations", body.parentOperations);
  checkKeys("rootOperations", body.rootOperations);
  const found = await requireRunForApi(environment, runId);
  if (found.isBuffered) {
    return updateBufferedRunMetadata(environment.id, found.friendlyId, body, {
      asRow: () => updateMetadataForApi(environment, runId, body),
      writeRowOperations: async (targetId, operations) => {
        const target = await requireRunForApi(environment, targetId);
        await writeMetadata(target, (current) => applyMetadataOperations(current, operations).metadata);
      },
    });
  }
  let run: TaskRun = found;

  if (body.operations && body.operations.length > 0) {
    const operations = body.operations;
    run = await writeMetadata(run, (current) => applyMetadataOperations(current, operations).metadata);
  } else if (body.metadata !== undefined) {
    const replacement = body.metadata;
    run = await writeMetadata(run, () => replacement);
  }
  for (const [which, operations] of [
    ["parent", body.parentOperations],
    ["root", body.rootOperations],
  ] as const) {
    if (!operations || operations.length === 0) continue;
    const target = await relative(run, which);
    const updated = await writeMetadata(target.id === run.id ? await reread(run) : target, (current) =>
      applyMetadataOperations(current, operations).metadata
    );
    if (updated.id === run.id) run = updated;
  }
  return { metadata: metadataObjectFromPacket(run.metadata, run.metadataType) };
}

/** GET /api/v1/runs/{id}/metadata: the parsed object (`{}` when there is none). */
export async function getMetadataForApi(environment: ApiEnvironmentRef, runId: string): Promise<{ metadata: JsonObject }> {
  const run = await requireRunForApi(environment, runId);
  return { metadata: metadataObjectFromPacket(run.metadata, run.metadataType) };
}
