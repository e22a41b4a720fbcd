import { apiLoader, json } from "~/services/apiRoute.server";
import { requireOwnProject } from "~/v3/envvars/envvarsApi.server";

/**
 * GET /api/v1/projects/{ref}/envvars → `{ variables: { NAME: value } }`, decrypted, for the key's own
 * environment: what `trigger.dev dev` loads into its task processes. Secret key only.
 */
export const loader = apiLoader({}, async ({ params, auth, runtime }) => {
  requireOwnProject(auth, params);
  return json({ variables: await runtime.envVars.valuesForEnvironment(auth.environment.id) });
});
