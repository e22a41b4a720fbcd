import { apiLoader, json } from "~/services/apiRoute.server";
import { listQueueRows, parsePageQuery, presentConcurrencyLimit } from "~/presenters/v3/apiQueue.server";

/** GET /api/v1/concurrency-limits?page&perPage: one limit per queue, named like the queue. */
export const loader = apiLoader({}, async ({ request, auth, runtime }) => {
  const envId = auth.environment.id;
  const { rows, pagination } = await listQueueRows(runtime.prisma, envId, parsePageQuery(new URL(request.url)));
  const data = await Promise.all(rows.map((row) => presentConcurrencyLimit(runtime.engine.runQueue, envId, row)));
  return json({ data, pagination });
});
