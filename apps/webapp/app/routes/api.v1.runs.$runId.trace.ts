import { apiLoader, json, requireParam } from "~/services/apiRoute.server";
import { toApiTrace, toApiTracePage } from "~/v3/events/tracePresenter.server";
import { loadRunTraceForApi } from "~/v3/events/runTraceApi.server";

/**
 * GET /api/v1/runs/{id}/trace → `{ trace: { traceId, rootSpan } }` (spans and log lines as a tree,
 * durations in ns). With `page[size]` (and `page[after]`): the flat paged form the CLI reads.
 */
export const loader = apiLoader({ allowJwt: true }, async ({ request, params, auth, runtime }) => {
  const url = new URL(request.url);
  const pageSize = url.searchParams.get("page[size]");
  const trace = await loadRunTraceForApi(runtime, auth, requireParam(params, "runId"), { includeLogs: pageSize === null });
  if (pageSize === null) return json(toApiTrace(trace.run, trace.root, trace.nodes));
  const size = Math.min(10_000, Math.max(1, Number(pageSize) || 10_000));
  const offset = Math.max(0, Number(url.searchParams.get("page[after]") ?? 0) || 0);
  const page = toApiTracePage(trace.nodes, offset, size);
  return json(trace.truncated ? { ...page, pagination: { ...page.pagination, truncated: true } } : page);
});
