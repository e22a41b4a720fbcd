import { apiQueries } from "@internal/run-store";
import { NotFoundError } from "@runplane/core";
import { BatchTaskRunExecutionResult } from "@runplane/core/schemas";
import { presentExecutionResult } from "~/presenters/v3/apiRun.server";
import { batchRunIds } from "~/runEngine/services/batchTrigger.server";
import { apiLoader, json, requireParam } from "~/services/apiRoute.server";

/** GET /api/v1/batches/{id}/results → `{ id, items }`: the execution result of each finished run, in index order. Secret key only. */
export const loader = apiLoader({}, async ({ params, auth, runtime }) => {
  const batchId = requireParam(params, "batchId");
  const batch = batchId.length <= 128 ? await runtime.runStore.findBatch({ friendlyId: batchId, environmentId: auth.environment.id }) : null;
  if (!batch) throw new NotFoundError("Batch not found");
  const ids = await batchRunIds(batch);
  const runs = await apiQueries.findRunsByFriendlyIds(runtime.runStore, auth.environment.id, ids);
  const byId = new Map(runs.map((run) => [run.friendlyId, run]));
  const items = ids.flatMap((id) => {
    const run = byId.get(id);
    const result = run ? presentExecutionResult(run) : null;
    return result ? [result] : [];
  });
  return json(BatchTaskRunExecutionResult.parse({ id: batch.friendlyId, items }));
});
