import { canCancelRun } from "@runplane/core/auth";
import { CanceledRunResponse } from "@runplane/core/schemas";
import { requireScope } from "~/services/apiAuth.server";
import { apiAction, json, readBodyText, requireParam } from "~/services/apiRoute.server";
import { cancelRunForApi } from "~/v3/runs/mutations/cancelRun.server";

/** POST /api/v2/runs/{id}/cancel (empty body) → `{ id }`, also when the run is already final. Key, or `write:runs:<id>` / `write:tasks:<task>`. */
export const action = apiAction({ allowJwt: true }, {
  POST: async ({ request, params, auth }) => {
    await readBodyText(request, 64 * 1024);
    const result = await cancelRunForApi(auth.environment, requireParam(params, "runId"), {
      authorize: (run) => requireScope(auth, (scopes) => canCancelRun(scopes, run)),
    });
    return json(CanceledRunResponse.parse(result));
  },
});
