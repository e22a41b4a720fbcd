import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { ValidationError } from "@runplane/core";
import { canSubscribeToTags } from "@runplane/core/auth";
import { parseDurationMs } from "@runplane/core/schemas";
import { requireScope } from "~/services/apiAuth.server";
import { handleRealtimeRequest, realtimePreflight } from "~/v3/realtime/realtimeRoute.server";

const DEFAULT_CREATED_AT = "24h";

/** `runs.subscribeToRunsWithTag`: the environment's runs carrying every tag, created within `createdAt`. */
export function loader({ request, context }: LoaderFunctionArgs) {
  return handleRealtimeRequest(request, context.runtime, async ({ auth, query, skipColumns }) => {
    const tags = [...new Set(query.tags ?? [])].sort();
    if (tags.length === 0) throw new ValidationError("tags: at least one tag is required");
    const window = query.createdAt ?? DEFAULT_CREATED_AT;
    const windowMs = parseDurationMs(window);
    if (windowMs === undefined) throw new ValidationError(`createdAt: expected a duration such as 1h or 7d, got "${window}"`);
    requireScope(auth, (scopes) => canSubscribeToTags(scopes, tags));
    const tasks = query.tasks ? [...new Set(query.tasks)].sort() : undefined;
    return {
      kind: "runs",
      environmentId: auth.environment.id,
      filter: { kind: "tags", tags, createdAfter: new Date(Date.now() - windowMs), tasks },
      definition: ["tags", JSON.stringify(tags), `createdAt:${window}`, `tasks:${JSON.stringify(tasks ?? [])}`],
      skipColumns,
    };
  });
}

export function action({ request }: ActionFunctionArgs) {
  return realtimePreflight(request);
}
