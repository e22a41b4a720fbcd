import { describe, expect } from "vitest";
import { engineStore } from "@internal/run-store";
import { MODES, engineTestFor, runOnce, setupEngine, waitFor } from "./engineHelpers.js";

for (const mode of MODES) {
  const test = engineTestFor(mode);

  describe(`batch items returned by their idempotency key (split=${mode.split})`, () => {
    test("a batch whose items include runs from outside it completes when they finish", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
      try {
        // Two runs outside any batch: one already finished, one still queued.
        const { run: finished } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}", idempotencyKey: "done-key" });
        expect((await runOnce(h))!.result.runStatus).toBe("COMPLETED_SUCCESSFULLY");
        const { run: pending } = await h.engine.trigger({ taskIdentifier: "child", environment: h.env, payload: "{}", idempotencyKey: "pending-key" });

        const { batch } = await h.engine.createBatch({ environment: h.env, runCount: 3 });
        const item = (index: number, idempotencyKey?: string) =>
          h.engine.trigger({ taskIdentifier: index === 1 ? "child" : "hello", environment: h.env, payload: "{}", batch: { id: batch.friendlyId, index }, idempotencyKey });
        const own = await item(0);
        const cachedPending = await item(1, "pending-key");
        const cachedFinished = await item(2, "done-key");
        expect(own.isCached).toBe(false);
        expect(cachedPending).toMatchObject({ isCached: true, run: { id: pending.id } });
        expect(cachedFinished).toMatchObject({ isCached: true, run: { id: finished.id } });
        expect((await engineStore.findBatchById(h.store, batch.id))!.runIds.sort()).toEqual([finished.friendlyId, pending.friendlyId].sort());

        // The batch's own item finishes first: one item (the queued outside run) is still running.
        const ran = new Set<string>();
        ran.add((await runOnce(h))!.dequeued.runId);
        const progress = (await engineStore.findBatchById(h.store, batch.id))!;
        expect(progress.status).toBe("PENDING");
        expect(progress.completedCount).toBe(2);
        // The outside run finishing completes the batch.
        ran.add((await runOnce(h))!.dequeued.runId);
        expect(ran).toEqual(new Set([own.run.friendlyId, pending.friendlyId]));
        const done = await waitFor(async () => {
          const row = await engineStore.findBatchById(h.store, batch.id);
          return row?.status === "COMPLETED" ? row : null;
        });
        expect(done).toMatchObject({ completedCount: 3, successfulRunCount: 3, failedRunCount: 0 });
      } finally {
        await h.close();
      }
    });
  });
}
