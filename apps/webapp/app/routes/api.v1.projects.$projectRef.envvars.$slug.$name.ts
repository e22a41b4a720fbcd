import { UpdateEnvironmentVariableRequestBody } from "@runplane/core/schemas";
import { apiAction, apiLoader, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { envvarsEnvironmentId } from "~/v3/envvars/envvarsApi.server";

/** GET → `{ name, value, isSecret }` (a secret's value redacted); 404 when absent. */
export const loader = apiLoader({}, async ({ params, auth, runtime }) =>
  json(await runtime.envVars.retrieve(envvarsEnvironmentId(auth, params), requireParam(params, "name")))
);

/** PUT `{ value }` and DELETE → `{ success: true }`; 404 when absent. */
export const action = apiAction({}, {
  PUT: async ({ request, params, auth, runtime }) => {
    const environmentId = envvarsEnvironmentId(auth, params);
    const body = await readJsonBody(request, UpdateEnvironmentVariableRequestBody, { maxBytes: 128 * 1024 });
    await runtime.envVars.update(environmentId, requireParam(params, "name"), body.value);
    return json({ success: true });
  },
  DELETE: async ({ params, auth, runtime }) => {
    await runtime.envVars.delete(envvarsEnvironmentId(auth, params), requireParam(params, "name"));
    return json({ success: true });
  },
});
