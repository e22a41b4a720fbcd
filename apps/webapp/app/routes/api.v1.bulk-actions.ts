import { CreateBulkActionRequestBody, CreateBulkActionResponseBody, CursorPageQuery, queryErrorBody } from "@runplane/core/schemas";
import { apiAction, apiLoader, json, readJsonBody } from "~/services/apiRoute.server";

/** GET /api/v1/bulk-actions → a cursor page of this environment's bulk actions, newest first. */
export const loader = apiLoader({}, async ({ request, auth, runtime }) => {
  const query = CursorPageQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return json(queryErrorBody(query.error), { status: 400 });
  const page = await runtime.bulkActions.list(auth.environment.id, {
    size: query.data["page[size]"],
    after: query.data["page[after]"],
    before: query.data["page[before]"],
  });
  return json(page);
});

/** POST /api/v1/bulk-actions `{ action: "cancel"|"replay", runIds | filter, name? }` → `{ id }`; processed in the background. */
export const action = apiAction({}, {
  POST: async ({ request, auth, runtime }) => {
    const body = await readJsonBody(request, CreateBulkActionRequestBody, { maxBytes: 1024 * 1024 });
    return json(CreateBulkActionResponseBody.parse(await runtime.bulkActions.create(auth.environment.id, body)));
  },
});
