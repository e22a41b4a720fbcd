import { describe, expect } from "vitest";
import { generateFriendlyId } from "@runplane/core";
import { countRows, engineTestFor, runOnce, setupEngine, startOne, type EngineHarness } from "./engineHelpers.js";

// Split mode only: the cross-seam guard decides, for every unblock path, which database holds the
// waitpoint and which the waiting run. These tests pin where the rows are and that every path resumes.
const mode = { split: true };
const test = engineTestFor(mode);

const urls = (h: EngineHarness) => ({ legacy: h.databaseUrl, runOps: h.runOpsDatabaseUrl! });

async function resumedOrThrow(h: EngineHarness, runId: string, snapshotId: string) {
  const status = await h.engine.continueFrom(runId, snapshotId, { waitMs: 5000 });
  if (status.status !== "resumed") throw new Error(`expected ${runId} to resume, got ${status.status}`);
  return status;
}

describe("run-ops split: cross-seam unblock paths", () => {
  test("a standalone token on the control plane resumes a NEW run and a LEGACY run waiting on it", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
    const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
    try {
      const db = urls(h);
      const { waitpoint: token } = await h.engine.createManualWaitpoint({ environment: h.env });
      expect(await countRows(db.legacy, "Waitpoint", "id", [token.id])).toBe(1);
      expect(await countRows(db.runOps, "Waitpoint", "id", [token.id])).toBe(0);

      const { run: newRun } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
      const { run: legacyRun } = await h.engine.trigger({
        taskIdentifier: "hello",
        environment: h.env,
        payload: "{}",
        friendlyId: generateFriendlyId("run", "LEGACY"),
      });
      expect(newRun.id.length).toBe(27);
      expect(legacyRun.id.length).toBe(25);
      const first = await startOne(h);
      const second = await startOne(h);
      const blockedFirst = await h.engine.blockRunWithWaitpoint(first.runId, first.snapshotId, [token.friendlyId]);
      const blockedSecond = await h.engine.blockRunWithWaitpoint(second.runId, second.snapshotId, [token.friendlyId]);

      // Each edge lives beside its waiting run: one in run-ops, one on the control plane.
      expect(await countRows(db.runOps, "TaskRunWaitpoint", "taskRunId", [newRun.id])).toBe(1);
      expect(await countRows(db.legacy, "TaskRunWaitpoint", "taskRunId", [newRun.id])).toBe(0);
      expect(await countRows(db.legacy, "TaskRunWaitpoint", "taskRunId", [legacyRun.id])).toBe(1);

      await h.engine.completeWaitpoint(token.friendlyId, { output: '{"approved":true}' });
      for (const [runId, snapshotId] of [
        [first.runId, blockedFirst.snapshotId],
        [second.runId, blockedSecond.snapshotId],
      ]) {
        const resumed = await resumedOrThrow(h, runId, snapshotId);
        expect(resumed.completedWaitpoints).toMatchObject([{ id: token.id, type: "MANUAL", output: '{"approved":true}' }]);
      }
      // The resumed snapshots (beside each run) name the control-plane token.
      expect(await countRows(db.runOps, "TaskRunExecutionSnapshot", "runId", [newRun.id])).toBeGreaterThan(3);
      expect(await countRows(db.legacy, "TaskRunExecutionSnapshot", "runId", [newRun.id])).toBe(0);
    } finally {
      await h.close();
    }
  });

  test("a LEGACY parent waiting on a NEW run of another tree (idempotent triggerAndWait) resumes with its output", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
    const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
    try {
      const db = urls(h);
      const { run: parent } = await h.engine.trigger({
        taskIdentifier: "parent",
        environment: h.env,
        payload: "{}",
        friendlyId: generateFriendlyId("run", "LEGACY"),
      });
      const executing = await startOne(h);
      expect(executing.runId).toBe(parent.friendlyId);
      // A NEW root run of another tree holds the idempotency key.
      const { run: shared } = await h.engine.trigger({ taskIdentifier: "child", environment: h.env, payload: '{"n":1}', idempotencyKey: "shared" });
      expect(shared.id.length).toBe(27);

      const reused = await h.engine.trigger({
        taskIdentifier: "child",
        environment: h.env,
        payload: "{}",
        idempotencyKey: "shared",
        parentRunId: parent.friendlyId,
        resumeParentOnCompletion: true,
      });
      expect(reused).toMatchObject({ isCached: true, run: { id: shared.id } });
      const blocked = (await h.engine.getLatestSnapshot(parent.id))!;
      expect(blocked.executionStatus).toBe("EXECUTING_WITH_WAITPOINTS");
      // The RUN waitpoint stays beside the run it belongs to (run-ops); the edge beside the parent.
      expect(await countRows(db.runOps, "Waitpoint", "completedByTaskRunId", [shared.id])).toBe(1);
      expect(await countRows(db.legacy, "Waitpoint", "completedByTaskRunId", [shared.id])).toBe(0);
      expect(await countRows(db.legacy, "TaskRunWaitpoint", "taskRunId", [parent.id])).toBe(1);

      const done = await runOnce(h, async (execution) => {
        expect(execution.run.id).toBe(shared.friendlyId);
        return { ok: true, output: '{"answer":42}' };
      });
      expect(done!.result.runStatus).toBe("COMPLETED_SUCCESSFULLY");
      const resumed = await resumedOrThrow(h, parent.id, blocked.id);
      expect(resumed.completedWaitpoints).toMatchObject([{ type: "RUN", output: '{"answer":42}', completedByTaskRun: { id: shared.id } }]);
      expect(await countRows(db.legacy, "TaskRunExecutionSnapshot", "runId", [parent.id])).toBeGreaterThan(3);
      expect(await countRows(db.runOps, "TaskRunExecutionSnapshot", "runId", [parent.id])).toBe(0);
    } finally {
      await h.close();
    }
  });

  test("a LEGACY tree stays on the control plane in split mode: child, batch, items and waitpoints inherit its shape", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
    const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
    try {
      const db = urls(h);
      const { run: parent } = await h.engine.trigger({
        taskIdentifier: "parent",
        environment: h.env,
        payload: "{}",
        friendlyId: generateFriendlyId("run", "LEGACY"),
      });
      await startOne(h);
      const { run: child } = await h.engine.trigger({ taskIdentifier: "child", environment: h.env, payload: "{}", parentRunId: parent.id, resumeParentOnCompletion: true });
      expect(child.id.length).toBe(25);
      await runOnce(h, async () => ({ ok: true, output: '"child"' }));
      let latest = (await h.engine.getLatestSnapshot(parent.id))!;
      expect(latest.executionStatus).toBe("EXECUTING");

      const { batch } = await h.engine.createBatch({ environment: h.env, runCount: 2, parentRunId: parent.id, resumeParentOnCompletion: true });
      expect(batch.id.length).toBe(25);
      const blockedAt = (await h.engine.getLatestSnapshot(parent.id))!;
      const items = [];
      for (const index of [0, 1]) {
        const { run } = await h.engine.trigger({
          taskIdentifier: "child",
          environment: h.env,
          payload: JSON.stringify({ index }),
          parentRunId: parent.id,
          resumeParentOnCompletion: true,
          batch: { id: batch.friendlyId, index },
        });
        items.push(run);
      }
      expect(items.every((r) => r.id.length === 25)).toBe(true);
      await runOnce(h);
      await runOnce(h);
      const resumed = await resumedOrThrow(h, parent.id, blockedAt.id);
      expect(resumed.completedWaitpoints.map((w) => w.type).sort()).toEqual(["BATCH", "RUN", "RUN"]);
      latest = (await h.engine.getLatestSnapshot(parent.id))!;

      const runIds = [parent.id, child.id, ...items.map((r) => r.id)];
      expect(await countRows(db.legacy, "TaskRun", "id", runIds)).toBe(4);
      expect(await countRows(db.runOps, "TaskRun", "id", runIds)).toBe(0);
      expect(await countRows(db.runOps, "TaskRunExecutionSnapshot", "runId", runIds)).toBe(0);
      expect(await countRows(db.runOps, "Waitpoint", "environmentId", [h.env.id])).toBe(0);
      expect(await countRows(db.legacy, "Waitpoint", "environmentId", [h.env.id])).toBe(4);
      expect(await countRows(db.legacy, "BatchTaskRun", "id", [batch.id])).toBe(1);
      expect(await countRows(db.runOps, "BatchTaskRun", "id", [batch.id])).toBe(0);
    } finally {
      await h.close();
    }
  });

  test("a datetime wait lives beside its NEW run and resumes it", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
    const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
    try {
      const db = urls(h);
      const { run } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
      const executing = await startOne(h);
      const waited = await h.engine.waitForDuration(run.id, executing.snapshotId, new Date(Date.now() + 250));
      expect(await countRows(db.runOps, "Waitpoint", "id", [waited.waitpointId])).toBe(1);
      expect(await countRows(db.legacy, "Waitpoint", "id", [waited.waitpointId])).toBe(0);
      const resumed = await resumedOrThrow(h, run.id, waited.snapshotId);
      expect(resumed.completedWaitpoints).toMatchObject([{ id: waited.waitpointId, type: "DATETIME", outputIsError: false }]);
    } finally {
      await h.close();
    }
  });

  test("refuses what would split a tree or block on a waitpoint the engine could not resume (422, nothing written)", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
    const h = await setupEngine(mode, { databaseUrl, runOpsDatabaseUrl, redis });
    try {
      const db = urls(h);
      const { run: legacyParent } = await h.engine.trigger({
        taskIdentifier: "parent",
        environment: h.env,
        payload: "{}",
        friendlyId: generateFriendlyId("run", "LEGACY"),
      });
      const parent = await startOne(h);

      // A NEW child under a LEGACY parent.
      const wrongChild = generateFriendlyId("run", "NEW");
      await expect(
        h.engine.trigger({ taskIdentifier: "child", environment: h.env, payload: "{}", friendlyId: wrongChild, parentRunId: legacyParent.id, resumeParentOnCompletion: true })
      ).rejects.toMatchObject({ status: 422, code: "cross_seam_refused" });
      expect(await h.store.findRun({ friendlyId: wrongChild })).toBeNull();

      // A NEW batch for a LEGACY parent; a LEGACY item in a LEGACY-parented batch is fine, a NEW one is not.
      await expect(
        h.engine.createBatch({ environment: h.env, runCount: 1, parentRunId: legacyParent.id, friendlyId: generateFriendlyId("batch", "NEW") })
      ).rejects.toMatchObject({ status: 422 });
      const { batch } = await h.engine.createBatch({ environment: h.env, runCount: 1 });
      expect(batch.id.length).toBe(27);
      await expect(
        h.engine.trigger({
          taskIdentifier: "child",
          environment: h.env,
          payload: "{}",
          friendlyId: generateFriendlyId("run", "LEGACY"),
          batch: { id: batch.friendlyId, index: 0 },
        })
      ).rejects.toMatchObject({ status: 422 });

      // Another run's datetime wait cannot block this run: the parent stays executing, no edge is written.
      const { run: sleeper } = await h.engine.trigger({ taskIdentifier: "hello", environment: h.env, payload: "{}" });
      const sleeping = await startOne(h);
      expect(sleeping.runId).toBe(sleeper.friendlyId);
      const waited = await h.engine.waitForDuration(sleeper.id, sleeping.snapshotId, new Date(Date.now() + 60_000));
      await expect(h.engine.blockRunWithWaitpoint(parent.runId, parent.snapshotId, [waited.waitpointFriendlyId])).rejects.toMatchObject({
        status: 422,
        code: "cross_seam_refused",
      });
      expect((await h.engine.getLatestSnapshot(legacyParent.id))!.executionStatus).toBe("EXECUTING");
      expect(await countRows(db.legacy, "TaskRunWaitpoint", "taskRunId", [legacyParent.id])).toBe(0);
    } finally {
      await h.close();
    }
  });
});
