import pg from "pg";
import { expect } from "vitest";
import { heteroPostgresTest, postgresTest } from "@internal/testcontainers";
import { createRunStoreFromUrls } from "../src/index.js";
import { insertRun } from "./helpers.js";

async function countRuns(url: string, id: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM "TaskRun" WHERE id = $1`, [id]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

heteroPostgresTest("split on: a ksuid run lands in run-ops, a cuid run in legacy, findRun finds both", async ({ databaseUrl, runOpsDatabaseUrl }) => {
  const { store, close } = createRunStoreFromUrls({ databaseUrl, runOpsDatabaseUrl, splitEnabled: true });
  try {
    const legacyRun = await insertRun(store, "LEGACY");
    const newRun = await insertRun(store, "NEW");

    expect(await countRuns(databaseUrl, legacyRun.id)).toBe(1);
    expect(await countRuns(runOpsDatabaseUrl, legacyRun.id)).toBe(0);
    expect(await countRuns(runOpsDatabaseUrl, newRun.id)).toBe(1);
    expect(await countRuns(databaseUrl, newRun.id)).toBe(0);

    expect((await store.findRun({ friendlyId: legacyRun.friendlyId, environmentId: "env_1" }))?.id).toBe(legacyRun.id);
    expect((await store.findRun({ friendlyId: newRun.friendlyId, environmentId: "env_1" }))?.id).toBe(newRun.id);
    // Another environment's key never sees the run.
    expect(await store.findRun({ friendlyId: newRun.friendlyId, environmentId: "env_2" })).toBeNull();

    const listed = await store.listRuns({ environmentId: "env_1", limit: 10 });
    expect(listed.map((r) => r.id).sort()).toEqual([legacyRun.id, newRun.id].sort());
  } finally {
    await close();
  }
});

postgresTest("split off: both id shapes live in the one database", async ({ databaseUrl }) => {
  const { store, close } = createRunStoreFromUrls({ databaseUrl, splitEnabled: false });
  try {
    const legacyRun = await insertRun(store, "LEGACY");
    const newRun = await insertRun(store, "NEW");
    expect(await countRuns(databaseUrl, legacyRun.id)).toBe(1);
    expect(await countRuns(databaseUrl, newRun.id)).toBe(1);
    expect((await store.findRun({ friendlyId: newRun.friendlyId }))?.id).toBe(newRun.id);
  } finally {
    await close();
  }
});
