import { describe, expect } from "vitest";
import { SnapshotNotFoundError } from "../src/index.js";
import { MODES, engineTestFor, setupEngine, sleep, startOne } from "./engineHelpers.js";

/**
 * What the worker protocol routes need from the engine (apps/webapp/docs/worker-protocol.md):
 * `continueFrom` (continue from an older snapshot), the block's own snapshot, a token wait's timeout,
 * an abortable dequeue long-poll, and TASK_PROCESS_SIGTERM always requeued.
 */
for (const mode of MODES) {
  const test = engineTestFor(mode);

  describe(`engine support for the worker protocol (split=${mode.split})`, () => {
    test("continueFrom: an attempt that lost its run is superseded, never told to cancel the attempt that owns it", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
      try {
        await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const first = await startOne(h);
        // attempt 1 fails and is retried; attempt 2 now owns the run
        await h.engine.completeRunAttempt(first.runId, first.snapshotId, {
          ok: false,
          error: { type: "BUILT_IN_ERROR", name: "Error", message: "boom" },
          retry: { delayMs: 0 },
        });
        const second = await startOne(h, 5000);
        expect(second.runId).toBe(first.runId);
        expect(await h.engine.continueFrom(first.runId, first.snapshotId)).toEqual({ status: "superseded" });
        expect(await h.engine.continueFrom(second.runId, second.snapshotId)).toEqual({ status: "waiting" });

        // finished: the attempt has nothing left to do, and nothing to acknowledge
        await h.engine.completeRunAttempt(second.runId, second.snapshotId, { ok: true, output: "{}" });
        expect(await h.engine.continueFrom(second.runId, second.snapshotId)).toEqual({ status: "superseded" });
      } finally {
        await h.close();
      }
    });

    test("continueFrom: waiting from an older snapshot, resumed with the waitpoints completed since, cancelled after a cancel", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
      try {
        await h.engine.trigger({ taskIdentifier: "parent", environment: h.env, payload: "{}" });
        const parent = await startOne(h);
        // Nothing happened yet: L = S is waiting.
        expect(await h.engine.continueFrom(parent.runId, parent.snapshotId)).toEqual({ status: "waiting" });
        await expect(h.engine.continueFrom(parent.runId, "snapshot_doesnotexist0000000000")).rejects.toBeInstanceOf(SnapshotNotFoundError);

        const { run: child } = await h.engine.trigger({
          taskIdentifier: "child",
          environment: h.env,
          payload: "{}",
          parentRunId: parent.runId,
          resumeParentOnCompletion: true,
        });
        expect(await h.engine.continueFrom(parent.runId, parent.snapshotId, { waitMs: 100 })).toEqual({ status: "waiting" });

        const polling = h.engine.continueFrom(parent.runId, parent.snapshotId, { waitMs: 5000 });
        const childRun = await startOne(h);
        expect(childRun.runId).toBe(child.friendlyId);
        await h.engine.completeRunAttempt(childRun.runId, childRun.snapshotId, { ok: true, output: '{"c":1}' });
        const resumed = await polling;
        expect(resumed).toMatchObject({ status: "resumed", completedWaitpoints: [{ type: "RUN", output: '{"c":1}', completedByTaskRun: { friendlyId: child.friendlyId } }] });
        if (resumed.status !== "resumed") throw new Error("unreachable");
        // From the resumed (carrying) snapshot itself: nothing new, so it waits.
        expect(await h.engine.continueFrom(parent.runId, resumed.snapshotId)).toEqual({ status: "waiting" });

        const controller = new AbortController();
        const startedAt = Date.now();
        setTimeout(() => controller.abort(), 100);
        expect(await h.engine.continueFrom(parent.runId, resumed.snapshotId, { waitMs: 5000, signal: controller.signal })).toEqual({ status: "waiting" });
        expect(Date.now() - startedAt).toBeLessThan(2000);

        await h.engine.cancelRun(parent.runId);
        expect(await h.engine.continueFrom(parent.runId, parent.snapshotId)).toMatchObject({ status: "cancelled" });
      } finally {
        await h.close();
      }
    });

    test("a wait on an already-completed waitpoint names its EXECUTING_WITH_WAITPOINTS snapshot; a token wait's timeout completes the token", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
      try {
        await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const run = await startOne(h);
        const past = await h.engine.waitForDuration(run.runId, run.snapshotId, new Date(Date.now() - 1000));
        expect(past.executionStatus).toBe("EXECUTING");
        expect(past.blockedSnapshotId).not.toBe(past.snapshotId);
        expect((await h.engine.getSnapshot(run.runId, past.blockedSnapshotFriendlyId))?.executionStatus).toBe("EXECUTING_WITH_WAITPOINTS");
        expect(await h.engine.continueFrom(run.runId, past.blockedSnapshotId)).toMatchObject({ status: "resumed", snapshotId: past.snapshotId });

        const { waitpoint } = await h.engine.createManualWaitpoint({ environment: h.env, timeout: "1h" });
        const blocked = await h.engine.blockRunWithWaitpoint(run.runId, past.snapshotId, [waitpoint.friendlyId], { timeout: new Date(Date.now() + 200) });
        expect(blocked.blockedSnapshotId).toBe(blocked.snapshotId);
        const resumed = await h.engine.continueFrom(run.runId, blocked.snapshotId, { waitMs: 5000 });
        expect(resumed.status).toBe("resumed");
        if (resumed.status !== "resumed") throw new Error("unreachable");
        expect(resumed.completedWaitpoints[0]).toMatchObject({ id: waitpoint.id, outputIsError: true });
        expect(JSON.parse(resumed.completedWaitpoints[0]!.output!)).toMatchObject({ code: "TRIGGER_WAITPOINT_TIMEOUT" });
      } finally {
        await h.close();
      }
    });

    test("dequeue ends its long-poll when the signal aborts, without taking runs", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
      try {
        const controller = new AbortController();
        const startedAt = Date.now();
        const polling = h.engine.dequeue({ environmentId: h.env.id, consumerId: "c1", maxRuns: 1, waitMs: 10_000, signal: controller.signal });
        await sleep(100);
        controller.abort();
        expect(await polling).toEqual([]);
        expect(Date.now() - startedAt).toBeLessThan(2000);
        const { run } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        await sleep(100);
        expect((await h.engine.getLatestSnapshot(run.id))?.executionStatus).toBe("QUEUED");
      } finally {
        await h.close();
      }
    });

    test("TASK_PROCESS_SIGTERM is requeued even when the delay is below the warm-start threshold", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis }, { retryWarmStartThresholdMs: 60_000 });
      try {
        await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const first = await startOne(h);
        const plain = await h.engine.completeRunAttempt(first.runId, first.snapshotId, { ok: false, error: { type: "BUILT_IN_ERROR", name: "Error", message: "x" } });
        expect(plain.attemptStatus).toBe("RETRY_IMMEDIATELY");
        const second = await h.engine.startRunAttempt(first.runId, plain.snapshotId);
        const leaving = await h.engine.completeRunAttempt(first.runId, second.snapshotId, {
          ok: false,
          error: { type: "INTERNAL_ERROR", code: "TASK_PROCESS_SIGTERM", message: "worker shut down" },
        });
        expect(leaving.attemptStatus).toBe("RETRY_QUEUED");
        expect((await h.engine.getLatestSnapshot(first.runId))?.executionStatus).toBe("QUEUED");
      } finally {
        await h.close();
      }
    });
  });
}
