import { waitpointTimeoutError } from "@internal/run-engine";
import { ValidationError } from "@runplane/core";
import type { Runtime } from "~/services/runtime.server";

/**
 * Completing a wait token from the dashboard (human-in-the-loop): with a JSON output, or as timed
 * out. The caller found the token in the user's environment; the engine scopes the write to it too.
 */
export async function completeTokenFromDashboard(
  runtime: Pick<Runtime, "engine">,
  token: { id: string; environmentId: string },
  rawOutput: unknown
): Promise<void> {
  const text = typeof rawOutput === "string" && rawOutput.trim() !== "" ? rawOutput.trim() : "{}";
  try {
    JSON.parse(text);
  } catch {
    throw new ValidationError("The output must be valid JSON");
  }
  await runtime.engine.completeWaitpoint(token.id, { environmentId: token.environmentId, output: text, outputType: "application/json" });
}

export async function timeOutTokenFromDashboard(runtime: Pick<Runtime, "engine">, token: { id: string; environmentId: string }): Promise<void> {
  await runtime.engine.completeWaitpoint(token.id, {
    environmentId: token.environmentId,
    output: waitpointTimeoutError(new Date()),
    outputType: "application/json",
    isError: true,
  });
}
