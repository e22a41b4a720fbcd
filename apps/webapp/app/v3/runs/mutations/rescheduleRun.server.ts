import { UnprocessableError, ValidationError } from "@runplane/core";
import { ErrorMessage, resolveDelay, type RescheduleRunRequestBody } from "@runplane/core/schemas";
import { getRuntime } from "~/services/runtime.server";
import { rescheduleBufferedRun } from "~/v3/mollifier/apiWiring.server";
import { requireRunForApi, type ApiEnvironmentRef, type ApiRun } from "../findRunForApi.server";

/** Moves a DELAYED run's start (a duration from now, or a date). Any other status → 422. */
export async function rescheduleRunForApi(environment: ApiEnvironmentRef, runId: string, body: RescheduleRunRequestBody): Promise<ApiRun> {
  const delayUntil = resolveDelay(body.delay);
  if (!delayUntil) throw new ValidationError(`delay: ${ErrorMessage.invalidDelay(String(body.delay))}`);
  const run = await requireRunForApi(environment, runId);
  if (run.isBuffered) return rescheduleBufferedRun(environment.id, run.friendlyId, delayUntil, (row) => rescheduleRow(row, delayUntil));
  return rescheduleRow(run, delayUntil);
}

async function rescheduleRow(run: ApiRun, delayUntil: Date): Promise<ApiRun> {
  if (run.status !== "DELAYED") throw new UnprocessableError(ErrorMessage.rescheduleNotDelayed);
  try {
    return await getRuntime().engine.rescheduleRun(run.id, delayUntil);
  } catch (error) {
    // It left DELAYED between the read and the engine's locked check.
    if (error instanceof UnprocessableError) throw new UnprocessableError(ErrorMessage.rescheduleNotDelayed);
    throw error;
  }
}
