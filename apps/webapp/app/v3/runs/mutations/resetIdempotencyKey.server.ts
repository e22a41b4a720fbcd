import { NotFoundError } from "@runplane/core";
import { getRuntime } from "~/services/runtime.server";
import type { ApiEnvironmentRef } from "../findRunForApi.server";

/** Releases an idempotency key (the SDK sends the hash) on the task's runs: the next trigger makes a new run. */
export async function resetIdempotencyKeyForApi(environment: ApiEnvironmentRef, key: string, taskIdentifier: string): Promise<{ id: string }> {
  try {
    await getRuntime().engine.resetIdempotencyKey(environment.id, taskIdentifier, key);
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new NotFoundError(`No runs found with idempotency key: ${key} and task: ${taskIdentifier}`);
    }
    throw error;
  }
  return { id: key };
}
