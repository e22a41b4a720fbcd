import { apiQueries } from "@internal/run-store";
import { UnprocessableError } from "@runplane/core";
import { ErrorMessage, MAX_TAGS_PER_RUN, normalizeTags, type AddTagsRequestBody } from "@runplane/core/schemas";
import { getRuntime } from "~/services/runtime.server";
import { addTagsToBufferedRun } from "~/v3/mollifier/apiWiring.server";
import { requireRunForApi, type ApiEnvironmentRef, type ApiRun } from "../findRunForApi.server";

/** Adds tags (deduplicated) to a run; more than 10 in total → 422 and nothing is added. */
export async function addTagsForApi(environment: ApiEnvironmentRef, runId: string, body: AddTagsRequestBody): Promise<{ message: string }> {
  const tags = normalizeTags(body.tags);
  const run = await requireRunForApi(environment, runId);
  if (tags.length === 0) return { message: `No tags added to run ${run.friendlyId}` };
  if (run.isBuffered) return addTagsToBufferedRun(environment.id, run.friendlyId, tags, (row) => addTagsToRow(row, tags));
  return addTagsToRow(run, tags);
}

async function addTagsToRow(run: ApiRun, tags: string[]): Promise<{ message: string }> {
  const { runStore, engine } = getRuntime();
  const result = await apiQueries.appendRunTags(runStore, run.id, tags, MAX_TAGS_PER_RUN);
  if (result === null) return { message: `No tags added to run ${run.friendlyId}` };
  if (!result.ok) throw new UnprocessableError(ErrorMessage.tooManyTags(result.count));
  const added = result.tags.length - run.runTags.length;
  // realtime subscribers see the new tags (the change carries no snapshot of its own)
  if (added > 0) engine.eventBus.emit("runTagsUpdated", { time: new Date(), run: { id: run.id, tags: result.tags }, environment: { id: run.runtimeEnvironmentId } });
  return { message: `Successfully set ${Math.max(0, added)} new tags on run ${run.friendlyId}` };
}
