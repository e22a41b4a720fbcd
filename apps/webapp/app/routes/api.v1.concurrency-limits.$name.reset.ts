import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { concurrencyLimitKeyItem, presentConcurrencyLimit } from "~/presenters/v3/apiQueue.server";
import { MAX_QUEUE_BODY_BYTES, queueOperations, ResetLimitBody } from "~/v3/queues/queueRoutes.server";

/** POST /api/v1/concurrency-limits/{name}/reset `{}`: back to the declared limits; `{concurrencyKey}`: drops that key's override. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth, runtime }) => {
    const body = await readJsonBody(request, ResetLimitBody, { maxBytes: MAX_QUEUE_BODY_BYTES, emptyAs: {} });
    const envId = auth.environment.id;
    const ops = queueOperations(runtime);
    const ref = { type: "custom" as const, value: requireParam(params, "name") };
    if (body.concurrencyKey !== undefined) {
      const row = await ops.resetKeyLimit(envId, ref, body.concurrencyKey);
      return json(await concurrencyLimitKeyItem(runtime.engine.runQueue, envId, row, body.concurrencyKey));
    }
    return json(await presentConcurrencyLimit(runtime.engine.runQueue, envId, await ops.resetLimit(envId, ref)));
  },
});
