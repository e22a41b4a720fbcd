import { apiLoader, json, requireParam } from "~/services/apiRoute.server";

/** GET /api/v1/bulk-actions/{id} → the action with its progress (`counts.total/success/failure`). */
export const loader = apiLoader({}, async ({ params, auth, runtime }) =>
  json(await runtime.bulkActions.retrieve(auth.environment.id, requireParam(params, "bulkActionId")))
);
