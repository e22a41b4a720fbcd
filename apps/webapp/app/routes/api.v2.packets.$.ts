import { apiAction, json, requireParam } from "~/services/apiRoute.server";

/** PUT /api/v2/packets/{path} → `{ presignedUrl, storagePath }`: where the SDK uploads a large payload or output. */
export const action = apiAction({ allowJwt: true }, {
  PUT: async ({ params, auth, runtime }) => json(runtime.packets.uploadUrl(auth.environment.id, requireParam(params, "*"))),
});
