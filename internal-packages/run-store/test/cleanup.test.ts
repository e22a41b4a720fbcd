import { generateCuid, generateFriendlyId, fromFriendlyId, type MintKind } from "@runplane/core";
import pg from "pg";
import { expect } from "vitest";
import { heteroPostgresTest, postgresTest } from "@internal/testcontainers";
import { CLEANUP_TABLES, createRunStoreFromUrls, deleteEnvironmentRunData, type RunStore } from "../src/index.js";

/**
 * Seeds one environment's run graph on the database `kind` routes to: `runs` runs with two snapshots
 * and a completion waitpoint each, run i blocked on run i-1's waitpoint, a manual token blocking the
 * first run, and a batch with three item errors.
 */
async function seedRunGraph(store: RunStore, environmentId: string, kind: MintKind, runs: number) {
  const runIds: string[] = [];
  const waitpointIds: string[] = [];
  const db = store.clientFor(generateFriendlyId("run", kind));
  const token = generateCuid();
  await db.waitpoint.create({
    data: { id: token, friendlyId: `waitpoint_${token}`, type: "MANUAL", idempotencyKey: token, projectId: "proj_1", environmentId, tags: [] },
  });
  for (let i = 0; i < runs; i++) {
    const friendlyId = generateFriendlyId("run", kind);
    const id = fromFriendlyId(friendlyId, "run");
    await db.taskRun.create({
      data: {
        id, friendlyId, runtimeEnvironmentId: environmentId, projectId: "proj_1", organizationId: "org_1",
        taskIdentifier: "hello", payload: "{}", traceId: "t", spanId: "s", queue: "task/hello", runTags: [],
      },
    });
    for (const status of ["RUN_CREATED", "QUEUED"] as const) {
      await db.taskRunExecutionSnapshot.create({
        data: {
          id: generateCuid(), executionStatus: status, description: status, runId: id, runStatus: "PENDING",
          environmentId, environmentType: "DEVELOPMENT", projectId: "proj_1", organizationId: "org_1", completedWaitpointIds: [],
        },
      });
    }
    const waitpointId = generateCuid();
    await db.waitpoint.create({
      data: {
        id: waitpointId, friendlyId: `waitpoint_${waitpointId}`, type: "RUN", idempotencyKey: waitpointId,
        completedByTaskRunId: id, projectId: "proj_1", environmentId, tags: [],
      },
    });
    const blocker = i === 0 ? token : waitpointIds[i - 1];
    await db.taskRunWaitpoint.create({ data: { id: generateCuid(), taskRunId: id, waitpointId: blocker, projectId: "proj_1" } });
    runIds.push(id);
    waitpointIds.push(waitpointId);
  }
  const batchId = fromFriendlyId(generateFriendlyId("batch", kind), "batch");
  await store.clientFor(batchId).batchTaskRun.create({
    data: { id: batchId, friendlyId: `batch_${batchId}`, runtimeEnvironmentId: environmentId, projectId: "proj_1", organizationId: "org_1", runIds },
  });
  for (let index = 0; index < 3; index++) {
    await store.clientFor(batchId).batchTaskRunError.create({
      data: { id: generateCuid(), batchTaskRunId: batchId, index, taskIdentifier: "hello", error: "boom" },
    });
  }
  return { runIds, waitpointIds, token };
}

/** Row counts of every cleared table for one environment, read straight from a database. */
async function countRows(databaseUrl: string, environmentId: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT
         (SELECT count(*) FROM "TaskRunWaitpoint" e JOIN "TaskRun" r ON r.id = e."taskRunId" WHERE r."runtimeEnvironmentId" = $1)::int AS "TaskRunWaitpoint",
         (SELECT count(*) FROM "TaskRunExecutionSnapshot" WHERE "environmentId" = $1)::int AS "TaskRunExecutionSnapshot",
         (SELECT count(*) FROM "Waitpoint" WHERE "environmentId" = $1)::int AS "Waitpoint",
         (SELECT count(*) FROM "BatchTaskRunError" x JOIN "BatchTaskRun" b ON b.id = x."batchTaskRunId" WHERE b."runtimeEnvironmentId" = $1)::int AS "BatchTaskRunError",
         (SELECT count(*) FROM "BatchTaskRun" WHERE "runtimeEnvironmentId" = $1)::int AS "BatchTaskRun",
         (SELECT count(*) FROM "TaskRun" WHERE "runtimeEnvironmentId" = $1)::int AS "TaskRun"`,
      [environmentId]
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

const graphCounts = (runs: number) => ({
  TaskRunWaitpoint: runs,
  TaskRunExecutionSnapshot: 2 * runs,
  Waitpoint: runs + 1,
  BatchTaskRunError: 3,
  BatchTaskRun: 1,
  TaskRun: runs,
});
const zero = Object.fromEntries(CLEANUP_TABLES.map((t) => [t, 0]));

heteroPostgresTest(
  "deleteEnvironmentRunData clears the environments' run data from both databases, in chunks, and only theirs",
  async ({ databaseUrl, runOpsDatabaseUrl }) => {
    const { store, close } = createRunStoreFromUrls({ databaseUrl, runOpsDatabaseUrl, splitEnabled: true });
    try {
      await seedRunGraph(store, "env_gone", "LEGACY", 5);
      await seedRunGraph(store, "env_gone", "NEW", 4);
      await seedRunGraph(store, "env_gone_too", "NEW", 1);
      const kept = await seedRunGraph(store, "env_kept", "LEGACY", 3);
      await seedRunGraph(store, "env_kept", "NEW", 3);
      // A kept run waiting on a token of a deleted environment loses that edge, nothing else.
      const goneToken = generateCuid();
      const legacy = store.clientFor(kept.runIds[0]);
      await legacy.waitpoint.create({
        data: { id: goneToken, friendlyId: `waitpoint_${goneToken}`, type: "MANUAL", idempotencyKey: goneToken, projectId: "proj_1", environmentId: "env_gone", tags: [] },
      });
      await legacy.taskRunWaitpoint.create({ data: { id: generateCuid(), taskRunId: kept.runIds[1], waitpointId: goneToken, projectId: "proj_1" } });

      const logged: Record<string, unknown>[] = [];
      const result = await deleteEnvironmentRunData(store, {
        environmentIds: ["env_gone", "env_gone_too"],
        chunkSize: 2,
        log: (_message, fields) => logged.push(fields),
      });

      expect(result.byDatabase.LEGACY).toEqual({ ...graphCounts(5), TaskRunWaitpoint: 6, Waitpoint: 7 });
      expect(result.byDatabase.NEW).toEqual(
        Object.fromEntries(CLEANUP_TABLES.map((t) => [t, graphCounts(4)[t] + graphCounts(1)[t]]))
      );
      expect(result.total.TaskRun).toBe(10);
      expect(logged).toHaveLength(2 * CLEANUP_TABLES.length);
      expect(logged).toContainEqual({ database: "NEW", table: "TaskRun", deleted: 5, environmentIds: ["env_gone", "env_gone_too"] });

      for (const url of [databaseUrl, runOpsDatabaseUrl]) {
        expect(await countRows(url, "env_gone")).toEqual(zero);
        expect(await countRows(url, "env_gone_too")).toEqual(zero);
      }
      expect(await countRows(databaseUrl, "env_kept")).toEqual(graphCounts(3));
      expect(await countRows(runOpsDatabaseUrl, "env_kept")).toEqual(graphCounts(3));

      const again = await deleteEnvironmentRunData(store, { environmentIds: ["env_gone", "env_gone_too"] });
      expect(again).toEqual({ byDatabase: { NEW: zero, LEGACY: zero }, total: zero });
    } finally {
      await close();
    }
  }
);

postgresTest("with split off there is one database and it is cleared once", async ({ databaseUrl }) => {
  const { store, close } = createRunStoreFromUrls({ databaseUrl, splitEnabled: false });
  try {
    await seedRunGraph(store, "env_gone", "NEW", 2); // split off: a NEW-shaped id still lives in the one database
    await seedRunGraph(store, "env_gone", "LEGACY", 1);
    const result = await deleteEnvironmentRunData(store, { environmentIds: ["env_gone"] });
    expect(Object.keys(result.byDatabase)).toEqual(["LEGACY"]);
    expect(result.total).toEqual({ ...graphCounts(3), TaskRunWaitpoint: 3, Waitpoint: 5, BatchTaskRunError: 6, BatchTaskRun: 2 });
    expect(await countRows(databaseUrl, "env_gone")).toEqual(zero);
  } finally {
    await close();
  }
});

heteroPostgresTest("no environment ids deletes nothing", async ({ databaseUrl, runOpsDatabaseUrl }) => {
  const { store, close } = createRunStoreFromUrls({ databaseUrl, runOpsDatabaseUrl, splitEnabled: true });
  try {
    await seedRunGraph(store, "env_kept", "NEW", 1);
    expect((await deleteEnvironmentRunData(store, { environmentIds: [] })).total).toEqual(zero);
    expect(await countRows(runOpsDatabaseUrl, "env_kept")).toEqual(graphCounts(1));
  } finally {
    await close();
  }
});
