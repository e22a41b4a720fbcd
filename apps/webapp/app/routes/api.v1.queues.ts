import { apiLoader, json } from "~/services/apiRoute.server";
import { listQueueRows, parsePageQuery, presentQueue } from "~/presenters/v3/apiQueue.server";

/** GET /api/v1/queues?page&perPage: the environment's queues with live running/queued counts. */
export const loader = apiLoader({}, async ({ request, auth, runtime }) => {
  const envId = auth.environment.id;
  const { rows, pagination } = await listQueueRows(runtime.prisma, envId, parsePageQuery(new URL(request.url)));
  const data = await Promise.all(rows.map((row) => presentQueue(runtime.engine.runQueue, envId, row)));
  return json({ data, pagination });
});
