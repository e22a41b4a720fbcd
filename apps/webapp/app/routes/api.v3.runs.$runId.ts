import { canReadRun } from "@runplane/core/auth";
import { batchFriendlyIdOf, presentRetrievedRun } from "~/presenters/v3/apiRun.server";
import { requireScope } from "~/services/apiAuth.server";
import { apiLoader, json, requireParam } from "~/services/apiRoute.server";
import { requireRunForApi } from "~/v3/runs/findRunForApi.server";

/**
 * GET /api/v3/runs/{id}: the full run object. Secret key, or a token with `read:runs:<id>`,
 * `read:tasks:<task>`, `read:tags:<tag>`, `read:batch:<batch>` or `read:runs`. Unknown or foreign → 404
 * at once (no `x-should-retry`: polling an id that does not exist should fail fast).
 */
export const loader = apiLoader({ allowJwt: true }, async ({ params, auth }) => {
  const run = await requireRunForApi(auth.environment, requireParam(params, "runId"));
  requireScope(auth, (scopes) =>
    canReadRun(scopes, { friendlyId: run.friendlyId, taskIdentifier: run.taskIdentifier, tags: run.runTags, batchFriendlyId: batchFriendlyIdOf(run) })
  );
  return json(await presentRetrievedRun(run));
});
