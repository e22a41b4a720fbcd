import { apiAction, json, readBodyText, requireParam } from "~/services/apiRoute.server";

/** POST /api/v1/bulk-actions/{id}/abort → `{ id }`: no further batch runs; 409 when it already finished. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth, runtime }) => {
    await readBodyText(request, 64 * 1024);
    return json(await runtime.bulkActions.abort(auth.environment.id, requireParam(params, "bulkActionId")));
  },
});
