import { NotFoundError } from "@runplane/core";
import { resetIdempotencyKeyWithBuffer } from "~/v3/mollifier/apiWiring.server";
import type { ApiEnvironmentRef } from "../findRunForApi.server";

/** Releases an idempotency key (the SDK sends the hash) on the task's runs: the next trigger makes a new run. */
export async function resetIdempotencyKeyForApi(environment: ApiEnvironmentRef, key: string, taskIdentifier: string): Promise<{ id: string }> {
  // Postgres and the mollifier's buffer (a buffered run may hold the key); 503 when the buffer is unknown
  if (!(await resetIdempotencyKeyWithBuffer(environment.id, taskIdentifier, key))) {
    throw new NotFoundError(`No runs found with idempotency key: ${key} and task: ${taskIdentifier}`);
  }
  return { id: key };
}
