import { ValidationError } from "@runplane/core";
import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { concurrencyLimitKeyItem, presentConcurrencyLimit } from "~/presenters/v3/apiQueue.server";
import { keyOverrideTtlMs } from "~/v3/queues/queueOperations.server";
import { MAX_QUEUE_BODY_BYTES, OverrideLimitBody, queueOperations } from "~/v3/queues/queueRoutes.server";

/**
 * POST /api/v1/concurrency-limits/{name}/override: `{perKey?, total?}` overrides the queue's own limits
 * until a reset (answers the limit); `{concurrencyKey, perKey, ttl?}` gives one key its own limit until
 * the ttl lapses or a reset with that key (answers the key's view).
 */
export const action = apiAction({}, {
  POST: async ({ request, params, auth, runtime }) => {
    const body = await readJsonBody(request, OverrideLimitBody, { maxBytes: MAX_QUEUE_BODY_BYTES });
    const envId = auth.environment.id;
    const ops = queueOperations(runtime);
    const ref = { type: "custom" as const, value: requireParam(params, "name") };
    if (body.concurrencyKey !== undefined) {
      if (body.total !== undefined) throw new ValidationError("total is not per key; omit it when overriding one concurrencyKey");
      if (body.perKey === undefined) throw new ValidationError("A per-key override needs perKey");
      const row = await ops.overrideKeyLimit(envId, ref, body.concurrencyKey, body.perKey, keyOverrideTtlMs(body.ttl));
      return json(await concurrencyLimitKeyItem(runtime.engine.runQueue, envId, row, body.concurrencyKey));
    }
    if (body.ttl !== undefined) throw new ValidationError("ttl only applies to a per-key override; pass concurrencyKey with it");
    const row = await ops.overrideLimit(envId, ref, { perKey: body.perKey, total: body.total });
    return json(await presentConcurrencyLimit(runtime.engine.runQueue, envId, row));
  },
});
