import { canTriggerTask, triggerResponseHeaders } from "@runplane/core/auth";
import {
  MAX_TRIGGER_BODY_BYTES,
  TriggerTaskRequestBody,
  TriggerTaskResponse,
  decodeTaskIdFromPath,
  readSdkRequestHeaders,
} from "@runplane/core/schemas";
import { withRequestIdempotency } from "~/runEngine/requestIdempotency.server";
import { triggerTaskService } from "~/runEngine/services/triggerTask.server";
import { claimOneTimeUse, requireScope } from "~/services/apiAuth.server";
import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";

/** POST /api/v1/tasks/{taskId}/trigger → `{ id, isCached? }` + `x-trigger-jwt`. Secret key or `trigger:tasks:<id>`. */
export const action = apiAction({ allowJwt: true }, {
  POST: async ({ request, params, auth }) => {
    const taskId = decodeTaskIdFromPath(requireParam(params, "taskId"));
    requireScope(auth, (scopes) => canTriggerTask(scopes, taskId));
    const body = await readJsonBody(request, TriggerTaskRequestBody, { maxBytes: MAX_TRIGGER_BODY_BYTES, emptyAs: {} });
    const headers = { ...readSdkRequestHeaders(request.headers), traceparent: request.headers.get("traceparent") ?? undefined };
    const environment = auth.environment;

    const result = await withRequestIdempotency({
      environmentId: environment.id,
      scope: `trigger:${taskId}`,
      key: headers.requestIdempotencyKey,
      run: async () => {
        const otu = await claimOneTimeUse(auth, taskId);
        try {
          const triggered = await triggerTaskService.call({
            environment,
            taskIdentifier: taskId,
            payload: body.payload,
            options: body.options,
            headers,
            auth: auth.type === "PUBLIC_JWT" ? auth : undefined,
          });
          return { id: triggered.friendlyId, isCached: triggered.isCached || undefined };
        } catch (error) {
          await otu.release();
          throw error;
        }
      },
    });

    const tokenHeaders = await triggerResponseHeaders({
      secretKey: environment.apiKey,
      environmentId: environment.id,
      runFriendlyId: result.id,
      realtime: auth.type === "PUBLIC_JWT" ? auth.realtime : undefined,
    });
    return json(TriggerTaskResponse.parse(result), { headers: tokenHeaders });
  },
});
