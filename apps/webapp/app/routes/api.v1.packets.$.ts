import { apiAction, apiLoader, json, requireParam } from "~/services/apiRoute.server";

/** GET /api/v1/packets/{path} → `{ presignedUrl }` to download an offloaded packet of this environment. */
export const loader = apiLoader({ allowJwt: true }, async ({ params, auth, runtime }) =>
  json(runtime.packets.downloadUrl(auth.environment.id, requireParam(params, "*")))
);

/** PUT /api/v1/packets/{path}: the older upload handshake, same answer as v2. */
export const action = apiAction({ allowJwt: true }, {
  PUT: async ({ params, auth, runtime }) => json(runtime.packets.uploadUrl(auth.environment.id, requireParam(params, "*"))),
});
