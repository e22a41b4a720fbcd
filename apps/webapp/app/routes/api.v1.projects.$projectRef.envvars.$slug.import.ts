import { ImportEnvironmentVariablesRequestBody } from "@runplane/core/schemas";
import { apiAction, json, readJsonBody } from "~/services/apiRoute.server";
import { envvarsEnvironmentId } from "~/v3/envvars/envvarsApi.server";

/** POST `{ variables, override?, isSecret? }` → `{ success: true }`: existing names are kept unless `override`. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth, runtime }) => {
    const environmentId = envvarsEnvironmentId(auth, params);
    const body = await readJsonBody(request, ImportEnvironmentVariablesRequestBody, { maxBytes: 1024 * 1024 });
    await runtime.envVars.import(environmentId, body);
    return json({ success: true });
  },
});
