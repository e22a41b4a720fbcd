import { ValidationError } from "@runplane/core";
import { apiLoader, json, requireParam } from "~/services/apiRoute.server";
import { concurrencyLimitKeyItem, presentConcurrencyLimit } from "~/presenters/v3/apiQueue.server";
import { KeySchema, queueOperations } from "~/v3/queues/queueRoutes.server";

/** GET /api/v1/concurrency-limits/{name}[?concurrencyKey=k]: the limit, or its view for one key (with the key's override). */
export const loader = apiLoader({}, async ({ request, params, auth, runtime }) => {
  const envId = auth.environment.id;
  const key = new URL(request.url).searchParams.get("concurrencyKey");
  const concurrencyKey = key === null ? undefined : KeySchema.safeParse(key);
  if (concurrencyKey && !concurrencyKey.success) throw new ValidationError("concurrencyKey must be 1 to 128 characters");
  const row = await queueOperations(runtime).find(envId, { type: "custom", value: requireParam(params, "name") });
  if (concurrencyKey) return json(await concurrencyLimitKeyItem(runtime.engine.runQueue, envId, row, concurrencyKey.data!));
  return json(await presentConcurrencyLimit(runtime.engine.runQueue, envId, row));
});
