import { MollifierBuffer, type AcceptInput, type MollifierBufferOptions } from "../src/mollifier/index.js";
import type { TestRedis } from "@internal/testcontainers";

/** Shared by the mollifier tests: a buffer on the test's isolated key space. */
export function makeBuffer(redis: TestRedis, options: Partial<MollifierBufferOptions> = {}): MollifierBuffer {
  return new MollifierBuffer({ redis: redis.options, ...options });
}

export function acceptInput(runId: string, overrides: Partial<AcceptInput> = {}): AcceptInput {
  return {
    runId,
    envId: "env_a",
    orgId: "org_a",
    snapshot: { friendlyId: runId, taskIdentifier: "my-task", payload: '{"n":1}', tags: [] },
    ...overrides,
  };
}

export const lease = { leaseMs: 60_000 };

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll until `check` holds (or fail after `timeoutMs`). */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5_000, stepMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("waitFor: condition not met in time");
    await sleep(stepMs);
  }
}
