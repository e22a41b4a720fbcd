import { apiLoader, json, requireParam } from "~/services/apiRoute.server";
import { concurrencyLimitKeyItem, presentConcurrencyLimit } from "~/presenters/v3/apiQueue.server";
import { queueOperations } from "~/v3/queues/queueRoutes.server";

/** GET /api/v1/concurrency-limits/{name}[?concurrencyKey=k]: the limit, or its view for one key. */
export const loader = apiLoader({}, async ({ request, params, auth, runtime }) => {
  const envId = auth.environment.id;
  const row = await queueOperations(runtime).find(envId, { type: "custom", value: requireParam(params, "name") });
  const key = new URL(request.url).searchParams.get("concurrencyKey");
  if (key !== null) return json(await concurrencyLimitKeyItem(runtime.engine.runQueue, envId, row, key));
  return json(await presentConcurrencyLimit(runtime.engine.runQueue, envId, row));
});
