import { expect } from "vitest";
import { heteroPostgresTest } from "@internal/testcontainers";
import { generateCuid, generateKsuid } from "@runplane/core";
import { apiQueries, createRunStoreFromUrls } from "../src/index.js";

heteroPostgresTest("listBatchPage pages batches of both databases newest first, both ways", async ({ databaseUrl, runOpsDatabaseUrl }) => {
  const { store, close } = createRunStoreFromUrls({ databaseUrl, runOpsDatabaseUrl, splitEnabled: true });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = i % 2 === 0 ? generateKsuid() : generateCuid();
      await store.clientFor(id).batchTaskRun.create({
        data: {
          id,
          friendlyId: `batch_${id}`,
          runtimeEnvironmentId: "env_b",
          projectId: "p",
          organizationId: "o",
          status: i === 0 ? "COMPLETED" : "PENDING",
          createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
        },
      });
      ids.push(id);
    }
    const newestFirst = [...ids].reverse();
    const first = await apiQueries.listBatchPage(store, { environmentId: "env_b", limit: 2 });
    expect(first.rows.map((b) => b.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.hasMore).toBe(true);
    const second = await apiQueries.listBatchPage(store, { environmentId: "env_b", limit: 2, after: first.rows[1] });
    expect(second.rows.map((b) => b.id)).toEqual(newestFirst.slice(2, 4));
    const back = await apiQueries.listBatchPage(store, { environmentId: "env_b", limit: 2, before: second.rows[0] });
    expect(back.rows.map((b) => b.id)).toEqual(newestFirst.slice(0, 2));
    expect(back.hasMore).toBe(false);
    const completed = await apiQueries.listBatchPage(store, { environmentId: "env_b", where: { status: "COMPLETED" }, limit: 10 });
    expect(completed.rows.map((b) => b.id)).toEqual([ids[0]]);
    expect((await apiQueries.listBatchPage(store, { environmentId: "other", limit: 10 })).rows).toEqual([]);
  } finally {
    await close();
  }
});
