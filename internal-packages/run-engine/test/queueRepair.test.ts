import { describe, expect } from "vitest";
import { engineStore } from "@internal/run-store";
import { MODES, engineTestFor, runOnce, setupEngine } from "./engineHelpers.js";

for (const mode of MODES) {
  const test = engineTestFor(mode);

  describe(`queue repair (split=${mode.split})`, () => {
    test("a run row left without its queue message is requeued by ensureRunQueued and by the sweep", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis }, { worker: { pollIntervalMs: 20, ttlSweepIntervalMs: 100, queueRepairIntervalMs: 0 } });
      try {
        // The process "died" between the row and the message: drop the message the trigger wrote.
        const { run: a } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const { run: b } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        expect(await h.engine.runQueue.removeMessage(a.id)).toBe(true);
        expect(await h.engine.runQueue.removeMessage(b.id)).toBe(true);
        expect(await h.engine.runQueue.peekMessage(a.id)).toBeUndefined();

        expect(await h.engine.ensureRunQueued(a.friendlyId)).toBe("requeued");
        expect(await h.engine.runQueue.peekMessage(a.id)).toMatchObject({ state: "queued" });
        expect(await h.engine.ensureRunQueued(a.id)).toBe("already_queued");

        // Too young for the sweep (default 60 s) → untouched; with no minimum age → requeued.
        expect(await h.engine.repairUnqueuedRuns({ environmentId: h.env.id })).toMatchObject({ requeued: 0, done: true });
        expect(await h.engine.runQueue.peekMessage(b.id)).toBeUndefined();
        expect(await h.engine.repairUnqueuedRuns({ environmentId: h.env.id, minAgeMs: 0 })).toMatchObject({ scanned: 2, requeued: 1, done: true });
        expect(await h.engine.runQueue.peekMessage(b.id)).toMatchObject({ state: "queued" });

        // Both run exactly once.
        const done = new Set<string>();
        for (let i = 0; i < 2; i++) {
          const r = await runOnce(h);
          done.add(r!.dequeued.runId);
          expect(r!.result.runStatus).toBe("COMPLETED_SUCCESSFULLY");
        }
        expect(done).toEqual(new Set([a.friendlyId, b.friendlyId]));
        expect(await runOnce(h, undefined, { waitMs: 200 })).toBeNull();
        expect(await h.engine.ensureRunQueued(a.id)).toBe("not_dequeueable");
      } finally {
        await h.close();
      }
    });

    test("a queued run with its message, or one being executed, is left alone (no duplicate)", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis }, { worker: { pollIntervalMs: 20, ttlSweepIntervalMs: 100, queueRepairIntervalMs: 0 } });
      try {
        const { run } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const before = await h.engine.runQueue.peekMessage(run.id);
        expect(await h.engine.ensureRunQueued(run.id)).toBe("already_queued");
        expect(await h.engine.repairUnqueuedRuns({ environmentId: h.env.id, minAgeMs: 0 })).toMatchObject({ scanned: 1, requeued: 0 });
        expect(await h.engine.runQueue.peekMessage(run.id)).toEqual(before);
        expect(await h.engine.runQueue.lengthOfQueue(h.env.id, run.queue)).toBe(1);

        const [dequeued] = await h.engine.dequeue({ environmentId: h.env.id, consumerId: "c1", maxRuns: 5, waitMs: 1000 });
        expect(dequeued!.runId).toBe(run.friendlyId);
        expect(await h.engine.ensureRunQueued(run.id)).toBe("not_dequeueable");
        expect(await h.engine.dequeue({ environmentId: h.env.id, consumerId: "c1", maxRuns: 5, waitMs: 200 })).toEqual([]);
      } finally {
        await h.close();
      }
    });

    test("a delayed run past its delay with no enqueue job is queued", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis }, { worker: { pollIntervalMs: 20, ttlSweepIntervalMs: 100, queueRepairIntervalMs: 0 } });
      try {
        const { run } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}", delayUntil: new Date(Date.now() + 60_000) });
        expect(await h.engine.ensureRunQueued(run.id)).toBe("delay_pending");
        // The delay passed but its job was lost.
        const past = new Date(Date.now() - 1000);
        await engineStore.updateRunRow(h.store, run.id, { delayUntil: past, queueTimestamp: past });
        expect(await h.engine.ensureRunQueued(run.id)).toBe("delay_pending"); // the job is still scheduled
        await (h.engine as unknown as { jobs: { ack(id: string): Promise<unknown> } }).jobs.ack(`enqueueDelayedRun:${run.id}`);
        expect(await h.engine.ensureRunQueued(run.id)).toBe("requeued");
        expect((await h.engine.getLatestSnapshot(run.id))?.executionStatus).toBe("QUEUED");
        const r = await runOnce(h);
        expect(r!.result.runStatus).toBe("COMPLETED_SUCCESSFULLY");
      } finally {
        await h.close();
      }
    });
  });
}
