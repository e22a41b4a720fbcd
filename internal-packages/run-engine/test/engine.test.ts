import { describe, expect } from "vitest";
import { engineStore } from "@internal/run-store";
import { StaleSnapshotError } from "../src/index.js";
import { MODES, countRows, engineTestFor, runOnce, setupEngine, sleep, startOne, waitFor } from "./engineHelpers.js";

for (const mode of MODES) {
  const test = engineTestFor(mode);

  describe(`run engine (split=${mode.split})`, () => {
    test("trigger → dequeue → start → complete ends COMPLETED_SUCCESSFULLY with output", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
      const h = await setupEngine(mode, fixture);
      try {
        const events: string[] = [];
        h.engine.eventBus.on("runCreated", () => void events.push("runCreated"));
        h.engine.eventBus.on("runAttemptStarted", () => void events.push("runAttemptStarted"));
        h.engine.eventBus.on("runSucceeded", () => void events.push("runSucceeded"));

        const { run, isCached } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: '{"n":1}', tags: ["a", "b"] });
        expect(isCached).toBe(false);
        expect(run.status).toBe("PENDING");
        expect(run.id.length).toBe(mode.split ? 27 : 25);

        const [dequeued] = await h.engine.dequeue({ environmentId: h.env.id, consumerId: "c1", maxRuns: 5, waitMs: 3000 });
        expect(dequeued.runId).toBe(run.friendlyId);
        expect(dequeued.attemptNumber).toBe(1);
        expect((await h.store.findRun({ id: run.id }))!.status).toBe("DEQUEUED");

        const started = await h.engine.startRunAttempt(dequeued.runId, dequeued.snapshotId);
        expect(started.execution.run.payload).toBe('{"n":1}');
        expect(started.execution.attempt.number).toBe(1);
        expect(started.execution.task.id).toBe("hello");
        expect(started.execution.queue.name).toBe("task/hello");
        expect(started.execution.environment.id).toBe(h.env.id);
        // A stale snapshot is rejected.
        await expect(h.engine.startRunAttempt(dequeued.runId, dequeued.snapshotId)).rejects.toBeInstanceOf(StaleSnapshotError);
        await expect(h.engine.heartbeat(dequeued.runId, dequeued.snapshotId)).rejects.toMatchObject({ status: 409 });
        await h.engine.heartbeat(dequeued.runId, started.snapshotId);

        const result = await h.engine.completeRunAttempt(dequeued.runId, started.snapshotId, { ok: true, output: '{"ok":true}' });
        expect(result.attemptStatus).toBe("RUN_FINISHED");
        const finished = (await h.store.findRun({ id: run.id }))!;
        expect(finished.status).toBe("COMPLETED_SUCCESSFULLY");
        expect(finished.output).toBe('{"ok":true}');
        expect(finished.completedAt).not.toBeNull();

        const snapshots = await engineStore.listSnapshots(h.store, run.id);
        expect(snapshots.map((s) => s.executionStatus)).toEqual(["QUEUED", "PENDING_EXECUTING", "EXECUTING", "FINISHED"]);
        expect(events).toEqual(["runCreated", "runAttemptStarted", "runSucceeded"]);
        // Concurrency was released: nothing in progress.
        expect(await h.engine.runQueue.currentConcurrency({ environmentId: h.env.id })).toBe(0);
      } finally {
        await h.close();
      }
    });

    test("a throwing task retries with backoff and ends COMPLETED_WITH_ERRORS after maxAttempts", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
      const h = await setupEngine(mode, fixture, {
        tasks: [{ id: "flaky", retry: { maxAttempts: 3, minTimeoutInMs: 150, maxTimeoutInMs: 5000, factor: 2, randomize: false } }],
      });
      try {
        const { run } = await h.engine.trigger({ taskIdentifier: "flaky", environment: h.env, payload: "{}" });
        const startedAt: number[] = [];
        const statuses: string[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await runOnce(h, async () => {
            startedAt.push(Date.now());
            return { ok: false, error: { type: "BUILT_IN_ERROR", name: "Error", message: `boom ${i}` } };
          });
          expect(r).not.toBeNull();
          statuses.push(r!.result.attemptStatus);
        }
        expect(statuses).toEqual(["RETRY_QUEUED", "RETRY_QUEUED", "RUN_FINISHED"]);
        expect(startedAt[1] - startedAt[0]).toBeGreaterThanOrEqual(140);
        expect(startedAt[2] - startedAt[1]).toBeGreaterThanOrEqual(290);
        const finished = (await h.store.findRun({ id: run.id }))!;
        expect(finished.status).toBe("COMPLETED_WITH_ERRORS");
        expect(finished.attemptNumber).toBe(3);
        expect(finished.error).toMatchObject({ type: "BUILT_IN_ERROR", message: "boom 2" });
      } finally {
        await h.close();
      }
    });

    test("skipRetrying and non-retryable errors finish at once", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
      const h = await setupEngine(mode, fixture);
      try {
        await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const r = await runOnce(h, async () => ({ ok: false, error: { type: "STRING_ERROR", raw: "nope" }, skipRetrying: true }));
        expect(r!.result.attemptStatus).toBe("RUN_FINISHED");
        expect(r!.result.runStatus).toBe("COMPLETED_WITH_ERRORS");
        await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const r2 = await runOnce(h, async () => ({ ok: false, error: { type: "INTERNAL_ERROR", code: "MAX_DURATION_EXCEEDED" } }));
        expect(r2!.result.runStatus).toBe("TIMED_OUT");
      } finally {
        await h.close();
      }
    });

    test("a delayed run starts after the delay; rescheduling only works while delayed", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
      const h = await setupEngine(mode, fixture);
      try {
        const delayUntil = new Date(Date.now() + 600);
        const { run } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}", delayUntil });
        expect(run.status).toBe("DELAYED");
        expect(await h.engine.dequeue({ environmentId: h.env.id, consumerId: "c1", maxRuns: 1 })).toEqual([]);
        const r = await runOnce(h, undefined, { waitMs: 5000 });
        expect(r).not.toBeNull();
        expect(Date.now()).toBeGreaterThanOrEqual(delayUntil.getTime());
        expect((await h.store.findRun({ id: run.id }))!.status).toBe("COMPLETED_SUCCESSFULLY");
        await expect(h.engine.rescheduleRun(run.id, new Date(Date.now() + 1000))).rejects.toMatchObject({ status: 422 });

        const { run: later } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}", delayUntil: new Date(Date.now() + 60_000) });
        const moved = await h.engine.rescheduleRun(later.friendlyId, new Date(Date.now() + 300));
        expect(moved.status).toBe("DELAYED");
        expect(await runOnce(h, undefined, { waitMs: 5000 })).not.toBeNull();
      } finally {
        await h.close();
      }
    });

    test("a run whose TTL passes before it starts becomes EXPIRED", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
      const h = await setupEngine(mode, fixture);
      try {
        const expired: string[] = [];
        h.engine.eventBus.on("runExpired", (e) => void expired.push(e.run.id));
        const { run } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}", ttl: "1s" });
        const final = await waitFor(async () => {
          const r = await h.store.findRun({ id: run.id });
          return r?.status === "EXPIRED" ? r : null;
        }, 6000);
        expect(final.expiredAt).not.toBeNull();
        // the event follows the row's commit
        await waitFor(async () => expired.length > 0, 5000);
        expect(expired).toEqual([run.id]);
        expect(await h.engine.dequeue({ environmentId: h.env.id, consumerId: "c1", maxRuns: 1 })).toEqual([]);
      } finally {
        await h.close();
      }
    });

    test("cancel a queued run and an executing run", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
      const h = await setupEngine(mode, fixture);
      try {
        const { run: queued } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const cancelled = await h.engine.cancelRun(queued.friendlyId, { reason: "no longer needed" });
        expect(cancelled.run.status).toBe("CANCELED");
        expect(cancelled.pendingCancel).toBe(false);
        expect(await h.engine.dequeue({ environmentId: h.env.id, consumerId: "c1", maxRuns: 1 })).toEqual([]);
        expect((await h.engine.cancelRun(queued.id)).alreadyFinished).toBe(true);

        const { run: running } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const executing = await startOne(h);
        expect(executing.runId).toBe(running.friendlyId);
        const pending = await h.engine.cancelRun(running.id);
        expect(pending.pendingCancel).toBe(true);
        expect((await h.store.findRun({ id: running.id }))!.status).toBe("CANCELED");
        const status = await h.engine.continueFrom(running.id, executing.snapshotId);
        expect(status.status).toBe("cancelled");
        const done = await h.engine.completeRunAttempt(running.id, executing.snapshotId, {
          ok: false,
          error: { type: "INTERNAL_ERROR", code: "TASK_RUN_CANCELLED" },
        });
        expect(done.attemptStatus).toBe("RUN_FINISHED");
        const final = (await h.store.findRun({ id: running.id }))!;
        expect(final.status).toBe("CANCELED");
        expect(final.completedAt).not.toBeNull();
        expect((await h.engine.getLatestSnapshot(running.id))!.executionStatus).toBe("FINISHED");
        expect(await h.engine.runQueue.currentConcurrency({ environmentId: h.env.id })).toBe(0);
      } finally {
        await h.close();
      }
    });

    test("triggerAndWait resumes the parent with the child's output; cancelling the parent cascades", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
      const h = await setupEngine(mode, fixture);
      try {
        const { run: parentRun } = await h.engine.trigger({ taskIdentifier: "parent", environment: h.env, payload: "{}" });
        const parent = await startOne(h);
        const { run: child } = await h.engine.trigger({
          taskIdentifier: "child",
          environment: h.env,
          payload: '{"x":2}',
          parentRunId: parent.runId,
          resumeParentOnCompletion: true,
        });
        expect(child.parentTaskRunId).toBe(parentRun.id);
        expect(child.rootTaskRunId).toBe(parentRun.id);
        expect(child.depth).toBe(1);
        expect(child.id.length).toBe(parentRun.id.length);
        const parentLatest = (await h.engine.getLatestSnapshot(parentRun.id))!;
        expect(parentLatest.executionStatus).toBe("EXECUTING_WITH_WAITPOINTS");
        expect((await h.engine.continueFrom(parentRun.id, parentLatest.id)).status).toBe("waiting");
        // The worker still holds its pre-trigger snapshot: heartbeat and continue accept it and point at the new one.
        expect(await h.engine.heartbeat(parent.runId, parent.snapshotId)).toMatchObject({ snapshotId: parentLatest.id, executionStatus: "EXECUTING_WITH_WAITPOINTS" });
        expect(await h.engine.continueFrom(parent.runId, parent.snapshotId)).toEqual({ status: "waiting" });

        const poll = h.engine.continueFrom(parentRun.id, parent.snapshotId, { waitMs: 5000 });
        const r = await runOnce(h, async (execution) => {
          expect(execution.run.id).toBe(child.friendlyId);
          return { ok: true, output: '{"y":4}' };
        });
        expect(r!.result.attemptStatus).toBe("RUN_FINISHED");
        const resumed = await poll;
        expect(resumed.status).toBe("resumed");
        if (resumed.status !== "resumed") throw new Error("unreachable");
        expect(resumed.completedWaitpoints).toHaveLength(1);
        expect(resumed.completedWaitpoints[0]).toMatchObject({
          type: "RUN",
          output: '{"y":4}',
          outputIsError: false,
          completedByTaskRun: { friendlyId: child.friendlyId },
        });
        const done = await h.engine.completeRunAttempt(parentRun.id, resumed.snapshotId, { ok: true, output: "{}" });
        expect(done.runStatus).toBe("COMPLETED_SUCCESSFULLY");

        // A failed child resumes its parent with the error; cancelling a parent cancels its waited children.
        const { run: p2 } = await h.engine.trigger({ taskIdentifier: "parent", environment: h.env, payload: "{}" });
        await startOne(h);
        const { run: c2 } = await h.engine.trigger({ taskIdentifier: "child", environment: h.env, payload: "{}", parentRunId: p2.id, resumeParentOnCompletion: true });
        await h.engine.cancelRun(p2.id);
        await waitFor(async () => (await h.store.findRun({ id: c2.id }))?.status === "CANCELED", 5000);
      } finally {
        await h.close();
      }
    });

    test("continue from the dequeue's snapshot after that worker started the attempt: still its own, not cancelled", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
      try {
        await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const [dequeued] = await h.engine.dequeue({ environmentId: h.env.id, consumerId: "c1", maxRuns: 1, waitMs: 3000 });
        await h.engine.startRunAttempt(dequeued.runId, dequeued.snapshotId);
        // A heartbeat sent before the start's answer arrived asks from the PENDING_EXECUTING snapshot.
        expect((await h.engine.continueFrom(dequeued.runId, dequeued.snapshotId)).status).toBe("waiting");
        await h.engine.cancelRun(dequeued.runId, { finalize: true });
      } finally {
        await h.close();
      }
    });

    test("a wait token resumes its waiter; completing twice keeps the first result; a timeout resumes with an error", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
      const h = await setupEngine(mode, fixture);
      try {
        const { waitpoint: token, isCached } = await h.engine.createManualWaitpoint({ environment: h.env, idempotencyKey: "k1", tags: ["t"] });
        expect(isCached).toBe(false);
        expect((await h.engine.createManualWaitpoint({ environment: h.env, idempotencyKey: "k1" })).waitpoint.id).toBe(token.id);

        await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
        const waiter = await startOne(h);
        const blocked = await h.engine.blockRunWithWaitpoint(waiter.runId, waiter.snapshotId, [token.friendlyId]);
        expect(blocked.executionStatus).toBe("EXECUTING_WITH_WAITPOINTS");
        expect((await h.engine.continueFrom(waiter.runId, blocked.snapshotId)).status).toBe("waiting");

        const poll = h.engine.continueFrom(waiter.runId, blocked.snapshotId, { waitMs: 5000 });
        await sleep(50);
        await h.engine.completeWaitpoint(token.friendlyId, { output: '"first"' });
        const second = await h.engine.completeWaitpoint(token.id, { output: '"second"' });
        expect(second.output).toBe('"first"');
        const resumed = await poll;
        expect(resumed).toMatchObject({ status: "resumed", completedWaitpoints: [{ id: token.id, type: "MANUAL", output: '"first"', outputIsError: false }] });

        // Timeout: the token completes with an error and the waiter resumes.
        const { waitpoint: slow } = await h.engine.createManualWaitpoint({ environment: h.env, timeout: new Date(Date.now() + 300) });
        if (resumed.status !== "resumed") throw new Error("unreachable");
        const blocked2 = await h.engine.blockRunWithWaitpoint(waiter.runId, resumed.snapshotId, [slow.id]);
        const timedOut = await h.engine.continueFrom(waiter.runId, blocked2.snapshotId, { waitMs: 5000 });
        expect(timedOut.status).toBe("resumed");
        if (timedOut.status !== "resumed") throw new Error("unreachable");
        expect(timedOut.completedWaitpoints[0].outputIsError).toBe(true);
        expect(JSON.parse(timedOut.completedWaitpoints[0].output!)).toMatchObject({ code: "TRIGGER_WAITPOINT_TIMEOUT" });

        // wait.for: a DATETIME waitpoint.
        const waited = await h.engine.waitForDuration(waiter.runId, timedOut.snapshotId, new Date(Date.now() + 200));
        const afterWait = await h.engine.continueFrom(waiter.runId, waited.snapshotId, { waitMs: 5000 });
        expect(afterWait).toMatchObject({ status: "resumed", completedWaitpoints: [{ type: "DATETIME", outputIsError: false }] });
      } finally {
        await h.close();
      }
    });

    test("a queue with concurrency limit 2 never runs 3 at once", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
      const h = await setupEngine(mode, fixture, { tasks: [{ id: "limited", queue: { name: "limited-q", concurrencyLimit: 2 } }] });
      try {
        for (let i = 0; i < 6; i++) await h.engine.trigger({ taskIdentifier: "limited", environment: h.env, payload: "{}" });
        const intervals: Array<[number, number]> = [];
        const consumer = async (name: string) => {
          for (;;) {
            const r = await runOnce(
              h,
              async () => {
                const start = Date.now();
                await sleep(150);
                intervals.push([start, Date.now()]);
                return { ok: true };
              },
              { consumerId: name, waitMs: 800 }
            );
            if (!r) return;
          }
        };
        await Promise.all([consumer("a"), consumer("b"), consumer("c")]);
        expect(intervals).toHaveLength(6);
        let maxOverlap = 0;
        for (const [start] of intervals) {
          maxOverlap = Math.max(maxOverlap, intervals.filter(([s, e]) => s <= start && start < e).length);
        }
        expect(maxOverlap).toBeLessThanOrEqual(2);
        expect(maxOverlap).toBe(2);
      } finally {
        await h.close();
      }
    });

    test("two concurrency keys progress in alternation", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
      const h = await setupEngine(mode, fixture, { tasks: [{ id: "keyed", queue: { name: "keyed-q", concurrencyLimit: 1 } }] });
      try {
        for (let i = 0; i < 3; i++) await h.engine.trigger({ taskIdentifier: "keyed", environment: h.env, payload: "{}", concurrencyKey: "A" });
        for (let i = 0; i < 3; i++) await h.engine.trigger({ taskIdentifier: "keyed", environment: h.env, payload: "{}", concurrencyKey: "B" });
        const order: string[] = [];
        for (let i = 0; i < 6; i++) {
          const r = await runOnce(h, async (execution) => {
            order.push(execution.run.concurrencyKey!);
            return { ok: true };
          });
          expect(r).not.toBeNull();
        }
        // Each key has its own slot: a single consumer alternates instead of draining A first.
        expect(order.slice(0, 2).sort()).toEqual(["A", "B"]);
        for (let i = 1; i < order.length; i++) expect(order[i]).not.toBe(order[i - 1]);
      } finally {
        await h.close();
      }
    });

    test("20 concurrent triggers with one idempotency key create exactly one run; after a reset a new one", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
      const h = await setupEngine(mode, fixture);
      try {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}", idempotencyKey: "same" }))
        );
        const ids = new Set(results.map((r) => r.run.id));
        expect(ids.size).toBe(1);
        expect(results.filter((r) => !r.isCached)).toHaveLength(1);
        const all = await h.store.listRuns({ environmentId: h.env.id, limit: 100 });
        expect(all).toHaveLength(1);

        expect(await h.engine.resetIdempotencyKey(h.env.id, "hello", "same")).toBe(1);
        const again = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}", idempotencyKey: "same" });
        expect(again.isCached).toBe(false);
        expect(again.run.id).not.toBe([...ids][0]);
        await expect(h.engine.resetIdempotencyKey(h.env.id, "hello", "unknown")).rejects.toMatchObject({ status: 404 });
      } finally {
        await h.close();
      }
    });

    if (mode.split) {
      test("a NEW-minted triggerAndWait tree stays entirely in the run-ops database", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
      const fixture = { databaseUrl, runOpsDatabaseUrl, redis };
        const h = await setupEngine(mode, fixture);
        try {
          const { run: parentRun } = await h.engine.trigger({ taskIdentifier: "parent", environment: h.env, payload: "{}" });
          const parent = await startOne(h);
          const { run: child } = await h.engine.trigger({ taskIdentifier: "child", environment: h.env, payload: "{}", parentRunId: parent.runId, resumeParentOnCompletion: true });
          const { batch } = await h.engine.createBatch({ environment: h.env, runCount: 1, parentRunId: parentRun.id, resumeParentOnCompletion: true });
          const { run: item } = await h.engine.trigger({
            taskIdentifier: "child",
            environment: h.env,
            payload: "{}",
            parentRunId: parentRun.id,
            resumeParentOnCompletion: true,
            batch: { id: batch.friendlyId, index: 0 },
          });
          await runOnce(h);
          await runOnce(h);
          const latest = (await h.engine.getLatestSnapshot(parentRun.id))!;
          const resumed = await h.engine.continueFrom(parentRun.id, latest.previousSnapshotId ?? latest.id, { waitMs: 5000 });
          expect(resumed.status).toBe("resumed");
          await h.engine.completeRunAttempt(parentRun.id, (await h.engine.getLatestSnapshot(parentRun.id))!.id, { ok: true });

          const runIds = [parentRun.id, child.id, item.id];
          expect(runIds.every((id) => id.length === 27)).toBe(true);
          expect(batch.id.length).toBe(27);
          const runOps = fixture.runOpsDatabaseUrl!;
          const legacy = fixture.databaseUrl;
          expect(await countRows(runOps, "TaskRun", "id", runIds)).toBe(3);
          expect(await countRows(legacy, "TaskRun", "id", runIds)).toBe(0);
          expect(await countRows(legacy, "TaskRunExecutionSnapshot", "runId", runIds)).toBe(0);
          expect(await countRows(runOps, "TaskRunExecutionSnapshot", "runId", runIds)).toBeGreaterThan(8);
          expect(await countRows(legacy, "Waitpoint", "environmentId", [h.env.id])).toBe(0);
          expect(await countRows(runOps, "Waitpoint", "environmentId", [h.env.id])).toBe(3);
          expect(await countRows(legacy, "TaskRunWaitpoint", "taskRunId", runIds)).toBe(0);
          expect(await countRows(legacy, "BatchTaskRun", "id", [batch.id])).toBe(0);
          expect(await countRows(runOps, "BatchTaskRun", "id", [batch.id])).toBe(1);
        } finally {
          await h.close();
        }
      });
    }
  });
}
