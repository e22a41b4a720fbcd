import { waitpointTimeoutError } from "@internal/run-engine";
import { ValidationError } from "@runplane/core";
import type { Runtime } from "~/services/runtime.server";
import { completeWaitpointToken } from "~/v3/waitpoints/waitpointTokens.server";

/**
 * Completing a wait token from the dashboard (human-in-the-loop): with a JSON output (the API's
 * completion service), or as timed out now (what the token's own timeout would have done).
 */
export async function completeTokenFromDashboard(token: { friendlyId: string; environmentId: string }, rawOutput: unknown): Promise<void> {
  const text = typeof rawOutput === "string" && rawOutput.trim() !== "" ? rawOutput.trim() : "{}";
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ValidationError("The output must be valid JSON");
  }
  await completeWaitpointToken({ id: token.environmentId }, token.friendlyId, data);
}

export async function timeOutTokenFromDashboard(runtime: Pick<Runtime, "engine">, token: { id: string; environmentId: string }): Promise<void> {
  await runtime.engine.completeWaitpoint(token.id, {
    environmentId: token.environmentId,
    output: waitpointTimeoutError(new Date()),
    outputType: "application/json",
    isError: true,
  });
}
