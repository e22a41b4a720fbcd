import { apiLoader, json, requireParam } from "~/services/apiRoute.server";
import { loadRunTraceForApi } from "~/v3/events/runTraceApi.server";
import { toApiEvents } from "~/v3/events/tracePresenter.server";

/**
 * GET /api/v1/runs/{id}/events → `{ events }`: the spans and log lines of the run's trace, oldest
 * first. A run still in the trigger buffer has none yet.
 */
export const loader = apiLoader({ allowJwt: true }, async ({ params, auth, runtime }) => {
  const trace = await loadRunTraceForApi(runtime, auth, requireParam(params, "runId"), { includeLogs: true });
  return json(trace.isBuffered ? { events: [] } : toApiEvents(trace.nodes));
});
