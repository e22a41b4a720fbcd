import { RunQueue, type HeldSlots } from "@internal/run-engine";
import { TEST_REDIS_URL } from "@internal/testcontainers/config";
import type { TestServer } from "./serverProcess";

/** A RunQueue on the test server's Redis prefix (the engine's `runqueue:` namespace); close it when done. */
export function openServerRunQueue(server: TestServer): RunQueue {
  return new RunQueue({ redis: TEST_REDIS_URL, keyPrefix: `${server.redis.keyPrefix}engine:runqueue:` });
}

function isEmpty(held: HeldSlots): boolean {
  return held.env.length === 0 && Object.keys(held.queueAndKeySets).length === 0;
}

/**
 * The no-leak assertion: once nothing executes, no run holds an environment, queue or concurrency-key
 * slot. Polls (a finishing run acknowledges its message just after its status turns final) and fails
 * with who still holds what after `timeoutMs`.
 */
export async function expectNoHeldSlots(runQueue: RunQueue, environmentIds: string[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const held = await Promise.all(environmentIds.map(async (id) => ({ id, slots: await runQueue.heldSlots(id) })));
    const leaking = held.filter((h) => !isEmpty(h.slots));
    if (leaking.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`slots still held after ${timeoutMs} ms with nothing executing: ${JSON.stringify(leaking, null, 2)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
