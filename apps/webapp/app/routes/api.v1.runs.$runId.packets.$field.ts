import { canReadRun } from "@runplane/core/auth";
import { ValidationError } from "@runplane/core";
import { PacketField } from "@runplane/core/schemas";
import { batchFriendlyIdOf } from "~/presenters/v3/apiRun.server";
import { requireScope } from "~/services/apiAuth.server";
import { apiLoader, json, requireParam } from "~/services/apiRoute.server";
import { requireRunForApi } from "~/v3/runs/findRunForApi.server";

/** GET /api/v1/runs/{id}/packets/{payload|output} → `{ presignedUrl }`; 404 when that field is not offloaded. */
export const loader = apiLoader({ allowJwt: true }, async ({ params, auth, runtime }) => {
  const field = PacketField.safeParse(requireParam(params, "field"));
  if (!field.success) throw new ValidationError('field must be "payload" or "output"');
  const run = await requireRunForApi(auth.environment, requireParam(params, "runId"));
  requireScope(auth, (scopes) =>
    canReadRun(scopes, { friendlyId: run.friendlyId, taskIdentifier: run.taskIdentifier, tags: run.runTags, batchFriendlyId: batchFriendlyIdOf(run) })
  );
  return json(runtime.packets.requireRunPacketUrl(run, field.data));
});
