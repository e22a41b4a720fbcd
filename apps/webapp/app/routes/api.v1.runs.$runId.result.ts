import { NotFoundError } from "@runplane/core";
import { presentExecutionResult } from "~/presenters/v3/apiRun.server";
import { apiLoader, json, requireParam } from "~/services/apiRoute.server";
import { requireRunForApi } from "~/v3/runs/findRunForApi.server";

/** GET /api/v1/runs/{id}/result → `TaskRunExecutionResult` of a final run; 404 while it is not final. Secret key only. */
export const loader = apiLoader({}, async ({ params, auth }) => {
  const run = await requireRunForApi(auth.environment, requireParam(params, "runId"));
  const result = presentExecutionResult(run);
  if (!result) throw new NotFoundError("Run has not finished yet");
  return json(result);
});
