import { expect } from "vitest";
import { heteroPostgresTest } from "@internal/testcontainers";
import { generateCuid } from "@runplane/core";
import { createRunStoreFromUrls } from "../src/index.js";
import { insertRun } from "./helpers.js";

heteroPostgresTest("listRuns pages both ways across both databases, newest first", async ({ databaseUrl, runOpsDatabaseUrl }) => {
  const { store, close } = createRunStoreFromUrls({ databaseUrl, runOpsDatabaseUrl, splitEnabled: true });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const run = await insertRun(store, i % 2 === 0 ? "NEW" : "LEGACY", "env_pages");
      await store.updateRun(run.id, { createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) });
      ids.push(run.id);
    }
    const newestFirst = [...ids].reverse();
    const first = await store.listRuns({ environmentId: "env_pages", limit: 3 });
    expect(first.map((r) => r.id)).toEqual(newestFirst.slice(0, 3));
    const second = await store.listRuns({ environmentId: "env_pages", limit: 3, after: first[2] });
    expect(second.map((r) => r.id)).toEqual(newestFirst.slice(3, 6));
    const third = await store.listRuns({ environmentId: "env_pages", limit: 3, after: second[2] });
    expect(third.map((r) => r.id)).toEqual(newestFirst.slice(6));
    // Back from the third page: the three runs right before it, still newest first.
    const back = await store.listRuns({ environmentId: "env_pages", limit: 3, before: third[0] });
    expect(back.map((r) => r.id)).toEqual(newestFirst.slice(3, 6));
    const backAgain = await store.listRuns({ environmentId: "env_pages", limit: 3, before: second[1] });
    expect(backAgain.map((r) => r.id)).toEqual(newestFirst.slice(1, 4));
  } finally {
    await close();
  }
});

heteroPostgresTest("listBatches, listBatchErrors and listWaitpoints read every database", async ({ databaseUrl, runOpsDatabaseUrl }) => {
  const { store, close } = createRunStoreFromUrls({ databaseUrl, runOpsDatabaseUrl, splitEnabled: true });
  try {
    const [runOps, legacy] = store.allClients();
    const batch = (client: typeof runOps, id: string, second: number) =>
      client.batchTaskRun.create({
        data: {
          id,
          friendlyId: `batch_${id}`,
          runtimeEnvironmentId: "env_b",
          projectId: "p",
          organizationId: "o",
          createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, second)),
        },
      });
    await batch(legacy, generateCuid(), 1);
    const newer = await batch(runOps, "2abcdefghijklmnopqrstuvwxyz", 2);
    await runOps.batchTaskRunError.create({
      data: { id: generateCuid(), batchTaskRunId: newer.id, index: 0, taskIdentifier: "hello", error: "boom" },
    });
    const batches = await store.listBatches({ environmentId: "env_b", limit: 10 });
    expect(batches.map((b) => b.id)[0]).toBe(newer.id);
    expect(batches).toHaveLength(2);
    expect((await store.listBatchErrors(newer.friendlyId)).map((e) => e.error)).toEqual(["boom"]);

    for (const [client, second] of [[legacy, 1], [runOps, 2]] as const) {
      const id = generateCuid();
      await client.waitpoint.create({
        data: {
          id,
          friendlyId: `waitpoint_${id}`,
          type: "MANUAL",
          idempotencyKey: id,
          projectId: "p",
          environmentId: "env_w",
          createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, second)),
        },
      });
    }
    const tokens = await store.listWaitpoints({ environmentId: "env_w", where: { type: "MANUAL" }, limit: 1 });
    expect(tokens).toHaveLength(1);
    const older = await store.listWaitpoints({ environmentId: "env_w", where: { type: "MANUAL" }, limit: 1, after: tokens[0] });
    expect(older).toHaveLength(1);
    expect(older[0].createdAt.getTime()).toBeLessThan(tokens[0].createdAt.getTime());
  } finally {
    await close();
  }
});
