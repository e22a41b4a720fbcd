import { CreateEnvironmentVariableRequestBody } from "@runplane/core/schemas";
import { apiAction, apiLoader, json, readJsonBody } from "~/services/apiRoute.server";
import { envvarsEnvironmentId } from "~/v3/envvars/envvarsApi.server";

/** GET → `[{ name, value, isSecret }]` (secret values redacted). Secret key of that environment. */
export const loader = apiLoader({}, async ({ params, auth, runtime }) => json(await runtime.envVars.list(envvarsEnvironmentId(auth, params))));

/** POST `{ name, value, isSecret? }` → `{ success: true }`; 409 when the name exists. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth, runtime }) => {
    const environmentId = envvarsEnvironmentId(auth, params);
    const body = await readJsonBody(request, CreateEnvironmentVariableRequestBody, { maxBytes: 128 * 1024 });
    await runtime.envVars.create(environmentId, body);
    return json({ success: true });
  },
});
