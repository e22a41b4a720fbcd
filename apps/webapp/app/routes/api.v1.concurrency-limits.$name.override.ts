import { UnprocessableError } from "@runplane/core";
import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { presentConcurrencyLimit } from "~/presenters/v3/apiQueue.server";
import { MAX_QUEUE_BODY_BYTES, OverrideLimitBody, queueOperations } from "~/v3/queues/queueRoutes.server";

/**
 * POST /api/v1/concurrency-limits/{name}/override `{perKey}`: overrides the queue's limit (it caps each
 * concurrency key). `total` and per-key overrides (`concurrencyKey`) are refused with 422: all keys of
 * a queue together are bounded by the environment limit here.
 */
export const action = apiAction({}, {
  POST: async ({ request, params, auth, runtime }) => {
    const body = await readJsonBody(request, OverrideLimitBody, { maxBytes: MAX_QUEUE_BODY_BYTES });
    if (body.concurrencyKey !== undefined) throw new UnprocessableError("Per-key overrides (concurrencyKey) are not supported; override perKey for every key");
    if (body.total !== undefined) throw new UnprocessableError("A total override is not supported: a queue's keys together are bounded by the environment limit; override perKey");
    if (body.ttl !== undefined) throw new UnprocessableError("ttl only applies to a per-key override");
    if (body.perKey === undefined) throw new UnprocessableError("Provide perKey");
    const envId = auth.environment.id;
    const row = await queueOperations(runtime).overrideLimit(envId, { type: "custom", value: requireParam(params, "name") }, body.perKey);
    return json(await presentConcurrencyLimit(runtime.engine.runQueue, envId, row));
  },
});
