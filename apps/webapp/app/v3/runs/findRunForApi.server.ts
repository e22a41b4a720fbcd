import type { TaskRun } from "@internal/run-store";
import { NotFoundError } from "@runplane/core";
import { ErrorMessage } from "@runplane/core/schemas";
import { findRunOrBuffered } from "~/v3/mollifier/apiWiring.server";

/** The environment a lookup is scoped to: only its id is used. */
export type ApiEnvironmentRef = { id: string };

/**
 * A run as the API sees it: a run-store row, or (once the mollifier plugs in here) a synthetic run
 * built from a buffered trigger, flagged `isBuffered`.
 */
export type ApiRun = TaskRun & { isBuffered?: boolean };

/**
 * THE run lookup of the REST API: every route that names a run by id comes through here. Scoped to
 * the caller's environment, so a run of another environment is simply not found (404, never 403).
 * Accepts `run_…` friendly ids (what the SDK sends) and bare internal ids.
 */
export async function findRunForApi(environment: ApiEnvironmentRef, friendlyId: string): Promise<ApiRun | null> {
  if (!friendlyId || friendlyId.length > 128) return null;
  // the row, else the buffered trigger (mollifier), as a synthetic run flagged isBuffered
  return findRunOrBuffered(environment.id, friendlyId);
}

/** {@link findRunForApi}, or a 404 `Run not found`. */
export async function requireRunForApi(environment: ApiEnvironmentRef, friendlyId: string): Promise<ApiRun> {
  const run = await findRunForApi(environment, friendlyId);
  if (!run) throw new NotFoundError(ErrorMessage.runNotFound);
  return run;
}
