import { NotFoundError } from "@runplane/core";
import { canReadRun } from "@runplane/core/auth";
import { batchFriendlyIdOf } from "~/presenters/v3/apiRun.server";
import { requireScope, type ApiAuthentication } from "~/services/apiAuth.server";
import type { Runtime } from "~/services/runtime.server";
import { requireRunForApi } from "~/v3/runs/findRunForApi.server";
import { loadTraceNodes, type TracedRun } from "./tracePresenter.server";

/**
 * The run behind a trace read, authorised like run retrieve (a run of another environment is a 404),
 * and its trace nodes from the events store beside it.
 */
export async function loadRunTraceForApi(runtime: Runtime, auth: ApiAuthentication, runId: string, options: { includeLogs: boolean }) {
  const run = await requireRunForApi(auth.environment, runId);
  requireScope(auth, (scopes) =>
    canReadRun(scopes, { friendlyId: run.friendlyId, taskIdentifier: run.taskIdentifier, tags: run.runTags, batchFriendlyId: batchFriendlyIdOf(run) })
  );
  const traced: TracedRun = run;
  const residency = runtime.runStore.residencyOf(run.id);
  const trace = await loadTraceNodes(runtime.events.store, residency, traced, options);
  return { run: traced, isBuffered: run.isBuffered === true, ...trace };
}

export function spanNotFound(): NotFoundError {
  return new NotFoundError("Span not found");
}
