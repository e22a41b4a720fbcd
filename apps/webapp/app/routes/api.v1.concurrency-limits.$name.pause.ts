import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { presentConcurrencyLimit } from "~/presenters/v3/apiQueue.server";
import { MAX_QUEUE_BODY_BYTES, PauseLimitBody, queueOperations } from "~/v3/queues/queueRoutes.server";

/** POST /api/v1/concurrency-limits/{name}/pause `{action: pause|resume}`: pauses or resumes the queue. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth, runtime }) => {
    const body = await readJsonBody(request, PauseLimitBody, { maxBytes: MAX_QUEUE_BODY_BYTES });
    const envId = auth.environment.id;
    const row = await queueOperations(runtime).setPaused(envId, { type: "custom", value: requireParam(params, "name") }, body.action === "pause");
    return json(await presentConcurrencyLimit(runtime.engine.runQueue, envId, row));
  },
});
