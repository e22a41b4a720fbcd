import { describe, expect } from "vitest";
import { engineStore } from "@internal/run-store";
import { generateFriendlyId } from "@runplane/core";
import { CreateCancelledRunConflictError } from "../src/index.js";
import { MODES, engineTestFor, runOnce, setupEngine, sleep, startOne, waitFor } from "./engineHelpers.js";

for (const mode of MODES) {
  const test = engineTestFor(mode);
  const kind = mode.split ? "NEW" : "LEGACY";

  describe(`run engine lifecycle (split=${mode.split})`, () => {
    test("a missed heartbeat fails the attempt and the run is retried; maxDuration ends TIMED_OUT", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis }, { heartbeatTimeoutMs: 300 });
      try {
        const failures: string[] = [];
        h.engine.eventBus.on("runAttemptFailed", (e) => void failures.push(e.run.error.type === "INTERNAL_ERROR" ? e.run.error.code : "other"));
        const { run } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const first = await startOne(h);
        // No heartbeat: the stall job fails attempt 1 and requeues the run.
        await waitFor(async () => (await h.engine.getLatestSnapshot(run.id))?.executionStatus === "QUEUED", 5000);
        await waitFor(async () => failures.length > 0, 2000);
        expect(failures).toEqual(["TASK_RUN_STALLED_EXECUTING"]);
        await expect(h.engine.completeRunAttempt(first.runId, first.snapshotId, { ok: true })).rejects.toMatchObject({ status: 409 });
        const second = await runOnce(h, async (execution) => {
          expect(execution.attempt.number).toBe(2);
          return { ok: true, output: '"late"' };
        });
        expect(second!.result.runStatus).toBe("COMPLETED_SUCCESSFULLY");

        // maxDuration (seconds, ≥ 5): force a short one through the row to keep the test quick.
        const { run: long } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}", maxDuration: 5 });
        await engineStore.updateRunRow(h.store, long.id, { maxDurationInSeconds: 1 });
        const executing = await startOne(h);
        const deadline = Date.now() + 4000;
        while (Date.now() < deadline && (await h.store.findRun({ id: long.id }))!.status !== "TIMED_OUT") {
          await h.engine.heartbeat(executing.runId, executing.snapshotId).catch(() => undefined);
          await sleep(100);
        }
        const timedOut = (await h.store.findRun({ id: long.id }))!;
        expect(timedOut.status).toBe("TIMED_OUT");
        expect(timedOut.error).toMatchObject({ code: "MAX_DURATION_EXCEEDED" });
      } finally {
        await h.close();
      }
    });

    test("a run without a worker for its task parks PENDING_VERSION until a worker registers it", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
      try {
        const { run } = await h.engine.trigger({ taskIdentifier: "later", environment: h.env, payload: "{}" });
        expect(await h.engine.dequeue({ environmentId: h.env.id, consumerId: "c1", maxRuns: 1, waitMs: 500 })).toEqual([]);
        const parked = (await h.store.findRun({ id: run.id }))!;
        expect(parked.status).toBe("PENDING_VERSION");
        expect(parked.statusReason).toBe("TASK_NOT_IN_LATEST");
        await h.register({ version: "v2", tasks: [{ id: "hello" }, { id: "later" }] });
        const r = await runOnce(h);
        expect(r!.dequeued.runId).toBe(run.friendlyId);
        expect(r!.dequeued.workerVersion).toBe("v2");
        expect((await h.store.findRun({ id: run.id }))!.taskVersion).toBe("v2");
      } finally {
        await h.close();
      }
    });

    test("batchTriggerAndWait resumes the parent with item results in index order", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
      try {
        const { run: parentRun } = await h.engine.trigger({ taskIdentifier: "parent", environment: h.env, payload: "{}" });
        const parent = await startOne(h);
        const { batch, waitpoint } = await h.engine.createBatch({ environment: h.env, runCount: 3, parentRunId: parent.runId, resumeParentOnCompletion: true });
        expect(waitpoint?.type).toBe("BATCH");
        const blockedAt = (await h.engine.getLatestSnapshot(parentRun.id))!;
        expect(blockedAt.executionStatus).toBe("EXECUTING_WITH_WAITPOINTS");
        for (const index of [2, 0, 1]) {
          await h.engine.trigger({
            taskIdentifier: "child",
            environment: h.env,
            payload: JSON.stringify({ index }),
            parentRunId: parentRun.id,
            resumeParentOnCompletion: true,
            batch: { id: batch.friendlyId, index },
          });
        }
        for (let i = 0; i < 3; i++) {
          await runOnce(h, async (execution) => {
            const { index } = JSON.parse(execution.run.payload);
            if (index === 1) return { ok: false, error: { type: "STRING_ERROR", raw: "item 1 failed" }, skipRetrying: true };
            return { ok: true, output: JSON.stringify(index * 10) };
          });
        }
        const resumed = await h.engine.continueFrom(parentRun.id, blockedAt.id, { waitMs: 5000 });
        if (resumed.status !== "resumed") throw new Error(`expected resumed, got ${resumed.status}`);
        const items = resumed.completedWaitpoints.filter((w) => w.type === "RUN");
        expect(items.map((w) => w.index)).toEqual([0, 1, 2]);
        expect(items.map((w) => w.outputIsError)).toEqual([false, true, false]);
        expect(items[0].output).toBe("0");
        expect(items[2].output).toBe("20");
        expect(resumed.completedWaitpoints.some((w) => w.type === "BATCH")).toBe(true);
        const finished = (await h.store.findBatch({ id: batch.id }))!;
        expect(finished.status).toBe("COMPLETED");
        expect(finished.completedCount).toBe(3);
        expect(finished.successfulRunCount).toBe(2);
      } finally {
        await h.close();
      }
    });

    test("createCancelledRun is idempotent and conflicts with a live run; createFailedTaskRun resumes a waiting parent", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
      try {
        const cancelledEvents: string[] = [];
        h.engine.eventBus.on("runCancelled", (e) => void cancelledEvents.push(e.run.id));
        const friendlyId = generateFriendlyId("run", kind);
        const input = {
          snapshot: { friendlyId, taskIdentifier: "hello", environment: h.env, payload: "{}", tags: ["x"] },
          cancelledAt: new Date(),
          cancelReason: "Canceled by user",
          emitRunCancelledEvent: false,
        };
        const first = await h.engine.createCancelledRun(input);
        expect(first.status).toBe("CANCELED");
        expect(first.runTags).toEqual(["x"]);
        expect((await h.engine.createCancelledRun(input)).id).toBe(first.id);
        expect(cancelledEvents).toEqual([]);
        expect((await h.engine.getLatestSnapshot(first.id))!.description).toBe("Run cancelled before materialisation");

        const { run: live } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        await expect(
          h.engine.createCancelledRun({ ...input, snapshot: { ...input.snapshot, friendlyId: live.friendlyId } })
        ).rejects.toBeInstanceOf(CreateCancelledRunConflictError);

        // A parent waiting on an item that could not be triggered resumes with the error.
        await h.engine.cancelRun(live.id);
        const { run: parentRun } = await h.engine.trigger({ taskIdentifier: "parent", environment: h.env, payload: "{}" });
        const parent = await startOne(h);
        const { batch } = await h.engine.createBatch({ environment: h.env, runCount: 1, parentRunId: parentRun.id, resumeParentOnCompletion: true });
        const blockedAt = (await h.engine.getLatestSnapshot(parentRun.id))!;
        const failed = await h.engine.createFailedTaskRun({
          friendlyId: generateFriendlyId("run", kind),
          environment: h.env,
          taskIdentifier: "child",
          error: { type: "STRING_ERROR", raw: "could not trigger" },
          parentTaskRunId: parent.runId,
          resumeParentOnCompletion: true,
          batch: { id: batch.friendlyId, index: 0 },
        });
        expect(failed.status).toBe("SYSTEM_FAILURE");
        const resumed = await h.engine.continueFrom(parentRun.id, blockedAt.id, { waitMs: 5000 });
        expect(resumed.status).toBe("resumed");
        if (resumed.status !== "resumed") throw new Error("unreachable");
        expect(resumed.completedWaitpoints.find((w) => w.type === "RUN")).toMatchObject({ outputIsError: true, index: 0 });
      } finally {
        await h.close();
      }
    });

    test("replay creates a fresh run linked to the original; an idempotent triggerAndWait on a finished run resumes at once", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
      try {
        const { run } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: '{"a":1}', idempotencyKey: "once", tags: ["t1"] });
        await runOnce(h, async () => ({ ok: true, output: '"done"' }));
        const replayed = await h.engine.replay(run.friendlyId);
        expect(replayed.run.id).not.toBe(run.id);
        expect(replayed.run.replayedFromTaskRunFriendlyId).toBe(run.friendlyId);
        expect(replayed.run.payload).toBe('{"a":1}');
        expect(replayed.run.runTags).toEqual(["t1"]);
        await runOnce(h);

        const { run: parentRun } = await h.engine.trigger({ taskIdentifier: "parent", environment: h.env, payload: "{}" });
        const parent = await startOne(h);
        const cached = await h.engine.trigger({
          taskIdentifier: "hello",
          environment: h.env,
          payload: "{}",
          idempotencyKey: "once",
          parentRunId: parent.runId,
          resumeParentOnCompletion: true,
        });
        expect(cached.isCached).toBe(true);
        expect(cached.run.id).toBe(run.id);
        const latest = (await h.engine.getLatestSnapshot(parentRun.id))!;
        expect(latest.executionStatus).toBe("EXECUTING");
        const resumed = await h.engine.continueFrom(parentRun.id, latest.previousSnapshotId!, { waitMs: 0 });
        expect(resumed).toMatchObject({ status: "resumed", completedWaitpoints: [{ type: "RUN", output: '"done"' }] });
      } finally {
        await h.close();
      }
    });
  });
}
