import { apiQueries } from "@internal/run-store";
import { NotFoundError } from "@runplane/core";
import { canReadBatch } from "@runplane/core/auth";
import { RetrieveBatchV2Response } from "@runplane/core/schemas";
import { batchRunIds } from "~/runEngine/services/batchTrigger.server";
import { requireScope } from "~/services/apiAuth.server";
import { apiLoader, json, requireParam } from "~/services/apiRoute.server";

/** GET /api/v2/batches/{id}: status, runs in index order, processing errors. Key, or `read:batch:<id>` / `read:runs`. */
export const loader = apiLoader({ allowJwt: true }, async ({ params, auth, runtime }) => {
  const batchId = requireParam(params, "batchId");
  requireScope(auth, (scopes) => canReadBatch(scopes, batchId));
  const batch = batchId.length <= 128 ? await runtime.runStore.findBatch({ friendlyId: batchId, environmentId: auth.environment.id }) : null;
  if (!batch) throw new NotFoundError("Batch not found");
  const [runs, errors] = await Promise.all([batchRunIds(batch), apiQueries.listBatchErrors(runtime.runStore, batch.id)]);
  return json(
    RetrieveBatchV2Response.parse({
      id: batch.friendlyId,
      status: batch.status,
      idempotencyKey: batch.idempotencyKey,
      createdAt: batch.createdAt,
      updatedAt: batch.updatedAt,
      runCount: batch.runCount,
      runs,
      processing: {
        completedAt: batch.completedAt,
        errors: errors.map((e) => ({ index: e.index, taskIdentifier: e.taskIdentifier, error: e.error, errorCode: e.errorCode })),
      },
    })
  );
});
