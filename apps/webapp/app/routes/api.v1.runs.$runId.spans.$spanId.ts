import { apiLoader, json, requireParam } from "~/services/apiRoute.server";
import { loadRunTraceForApi, spanNotFound } from "~/v3/events/runTraceApi.server";
import { toApiSpanDetail } from "~/v3/events/tracePresenter.server";

/** GET /api/v1/runs/{id}/spans/{spanId} → one span of the run's trace, with the runs it triggered. */
export const loader = apiLoader({ allowJwt: true }, async ({ params, auth, runtime }) => {
  const spanId = requireParam(params, "spanId");
  const trace = await loadRunTraceForApi(runtime, auth, requireParam(params, "runId"), { includeLogs: false });
  const node = trace.nodes.find((n) => n.id === spanId);
  if (!node) throw spanNotFound();
  const triggeredRuns = trace.nodes
    .filter((n) => n.kind === "run" && n.parentId === spanId)
    .map((n) => ({ runId: n.runId, taskIdentifier: String(n.properties["ctx.task.id"] ?? n.message), status: String(n.properties["run.status"] ?? (n.isPartial ? "EXECUTING" : "COMPLETED")), createdAt: n.startTime }));
  return json(toApiSpanDetail(node, triggeredRuns));
});
