import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { presentQueue, queueRefFrom } from "~/presenters/v3/apiQueue.server";
import { MAX_QUEUE_BODY_BYTES, queueOperations, ResetQueueBody } from "~/v3/queues/queueRoutes.server";

/** POST /api/v1/queues/{queue}/concurrency/reset `{type}` → the queue, back on its declared limit. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth, runtime }) => {
    const body = await readJsonBody(request, ResetQueueBody, { maxBytes: MAX_QUEUE_BODY_BYTES, emptyAs: {} });
    const ref = queueRefFrom(requireParam(params, "queueParam"), body.type);
    const row = await queueOperations(runtime).resetLimit(auth.environment.id, ref);
    return json(await presentQueue(runtime.engine.runQueue, auth.environment.id, row));
  },
});
