import { NotFoundError, toFriendlyId } from "@runplane/core";
import { z } from "zod";
import { getRuntime } from "~/services/runtime.server";
import { readWorkerBody } from "~/v3/workerProtocol/http.server";
import { requireFriendlyId, type WorkerEnvironment } from "~/v3/workerProtocol/runAccess.server";
import { staleOrUnknown } from "~/v3/workerProtocol/workerProtocol.server";

/**
 * The waits the trigger.dev task runtime registers from inside a task (`/engine/v1/runs/:runId/…`).
 * The SDK names no snapshot, so the run's latest one is used; the engine refuses a run that is not
 * executing (422). The task learns of the completion through the CLI's `snapshots/latest`.
 */

const WaitDurationRequest = z.object({
  date: z.coerce.date(),
  idempotencyKey: z.string().max(2048).optional(),
  idempotencyKeyTTL: z.string().max(64).optional(),
});

const EmptyBody = z.object({}).passthrough();

async function latestRef(environment: WorkerEnvironment, rawRunId: string | undefined) {
  const runId = requireFriendlyId(rawRunId, "run");
  const latest = await getRuntime().engine.getLatestSnapshot(runId);
  if (!latest || latest.environmentId !== environment.id) throw new NotFoundError("Run not found");
  return { runId, snapshotId: toFriendlyId("snapshot", latest.id), latest };
}

export async function waitForDuration(environment: WorkerEnvironment, request: Request, params: { runId?: string }) {
  const body = await readWorkerBody(request, WaitDurationRequest);
  const ref = await latestRef(environment, params.runId);
  const blocked = await staleOrUnknown(ref, () =>
    getRuntime().engine.waitForDuration(ref.runId, ref.snapshotId, body.date, { idempotencyKey: body.idempotencyKey, idempotencyKeyTTL: body.idempotencyKeyTTL })
  );
  return { waitUntil: body.date, waitpoint: { id: blocked.waitpointFriendlyId } };
}

export async function waitForToken(environment: WorkerEnvironment, request: Request, params: { runId?: string; waitpointId?: string }) {
  await readWorkerBody(request, EmptyBody);
  const waitpointId = requireFriendlyId(params.waitpointId, "waitpoint");
  const ref = await latestRef(environment, params.runId);
  const { engine, runStore } = getRuntime();
  const waitpoint = await runStore.findWaitpoint({ friendlyId: waitpointId, environmentId: environment.id });
  if (!waitpoint) throw new NotFoundError("Waitpoint not found");
  await staleOrUnknown(ref, () => engine.blockRunWithWaitpoint(ref.runId, ref.snapshotId, [waitpointId]));
  return { success: true };
}
