import { ValidationError } from "@runplane/core";
import { canListRuns } from "@runplane/core/auth";
import { parseListRunsQuery, queryErrorBody } from "@runplane/core/schemas";
import { requireScope } from "~/services/apiAuth.server";
import { apiLoader, json } from "~/services/apiRoute.server";
import { withResponseFields } from "~/services/httpErrors.server";
import { listRunsForApi } from "~/v3/runs/listRunsForApi.server";

/** GET /api/v1/runs: the environment's runs, newest first, every SDK filter, cursor pages. */
export const loader = apiLoader({ allowJwt: true }, async ({ request, auth }) => {
  const query = parseListRunsQuery(new URL(request.url).searchParams);
  if (!query.success) {
    const { error, ...rest } = queryErrorBody(query.error);
    throw withResponseFields(new ValidationError(error), { body: rest });
  }
  requireScope(auth, (scopes) => canListRuns(scopes, query.data.taskIdentifiers));
  const { environment } = auth;
  return json(await listRunsForApi([{ id: environment.id, slug: environment.slug }], query.data));
});
