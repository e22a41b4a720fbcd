import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { presentQueue, queueRefFrom } from "~/presenters/v3/apiQueue.server";
import { MAX_QUEUE_BODY_BYTES, PauseQueueBody, queueOperations } from "~/v3/queues/queueRoutes.server";

/** POST /api/v1/queues/{queue}/pause `{type, action: pause|resume}` → the queue. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth, runtime }) => {
    const body = await readJsonBody(request, PauseQueueBody, { maxBytes: MAX_QUEUE_BODY_BYTES });
    const ref = queueRefFrom(requireParam(params, "queueParam"), body.type);
    const row = await queueOperations(runtime).setPaused(auth.environment.id, ref, body.action === "pause");
    return json(await presentQueue(runtime.engine.runQueue, auth.environment.id, row));
  },
});
