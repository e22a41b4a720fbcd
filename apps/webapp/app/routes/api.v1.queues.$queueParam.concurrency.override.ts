import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { presentQueue, queueRefFrom } from "~/presenters/v3/apiQueue.server";
import { MAX_QUEUE_BODY_BYTES, OverrideQueueBody, queueOperations } from "~/v3/queues/queueRoutes.server";

/** POST /api/v1/queues/{queue}/concurrency/override `{type, concurrencyLimit}` → the queue. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth, runtime }) => {
    const body = await readJsonBody(request, OverrideQueueBody, { maxBytes: MAX_QUEUE_BODY_BYTES });
    const ref = queueRefFrom(requireParam(params, "queueParam"), body.type);
    const row = await queueOperations(runtime).overrideLimit(auth.environment.id, ref, { perKey: body.concurrencyLimit });
    return json(await presentQueue(runtime.engine.runQueue, auth.environment.id, row));
  },
});
