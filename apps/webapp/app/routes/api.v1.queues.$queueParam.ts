import { apiLoader, json, requireParam } from "~/services/apiRoute.server";
import { presentQueue, queueRefFrom } from "~/presenters/v3/apiQueue.server";
import { queueOperations } from "~/v3/queues/queueRoutes.server";

/** GET /api/v1/queues/{id | task id | name}?type=id|task|custom: one queue. */
export const loader = apiLoader({}, async ({ request, params, auth, runtime }) => {
  const ref = queueRefFrom(requireParam(params, "queueParam"), new URL(request.url).searchParams.get("type"));
  const row = await queueOperations(runtime).find(auth.environment.id, ref);
  return json(await presentQueue(runtime.engine.runQueue, auth.environment.id, row));
});
