import pg from "pg";
import { generateFriendlyId } from "@runplane/core";
import { heteroPostgresTest, postgresTest } from "@internal/testcontainers";
import { expect } from "vitest";
import { RunOpsDataUnavailableError, createRunStoreFromUrls, probeRunOpsResidue, type RunStoreLog } from "../src/index.js";
import { insertRun } from "./helpers.js";

postgresTest("split off: a NEW-shaped id is never answered from the legacy database silently", async ({ databaseUrl }) => {
  const logged: string[] = [];
  const log: RunStoreLog = (level, message) => void logged.push(`${level}: ${message}`);
  const { store, close } = createRunStoreFromUrls({ databaseUrl, splitEnabled: false, log });
  try {
    const legacy = await insertRun(store, "LEGACY");
    expect((await store.findRun({ friendlyId: legacy.friendlyId }))?.id).toBe(legacy.id);
    expect(logged).toEqual([]);

    // Default policy: read legacy (where it cannot be), but say so.
    expect(await store.findRun({ friendlyId: generateFriendlyId("run", "NEW") })).toBeNull();
    expect(logged).toEqual([expect.stringMatching(/^warn: run-ops id requested while split is off/)]);
  } finally {
    await close();
  }
});

postgresTest("split off with a refusing policy: NEW-shaped ids answer 410, legacy ids are untouched", async ({ databaseUrl }) => {
  const { store, close } = createRunStoreFromUrls({
    databaseUrl,
    splitEnabled: false,
    onNewIdWhileSplitOff: (id) => {
      throw new RunOpsDataUnavailableError(id);
    },
  });
  try {
    const legacy = await insertRun(store, "LEGACY");
    expect((await store.findRun({ id: legacy.id }))?.id).toBe(legacy.id);
    const newId = generateFriendlyId("run", "NEW");
    await expect(store.findRun({ friendlyId: newId })).rejects.toMatchObject({ status: 410, code: "run_ops_data_unavailable" });
    expect(() => store.clientFor(newId)).toThrow(RunOpsDataUnavailableError);
    await expect(store.findBatch({ friendlyId: generateFriendlyId("batch", "NEW") })).rejects.toBeInstanceOf(RunOpsDataUnavailableError);
  } finally {
    await close();
  }
});

heteroPostgresTest("probeRunOpsResidue: empty, has runs (capped), not migrated, unreachable", async ({ databaseUrl, runOpsDatabaseUrl }) => {
  expect(await probeRunOpsResidue(runOpsDatabaseUrl)).toEqual({ state: "empty", migrated: true });

  const { store, close } = createRunStoreFromUrls({ databaseUrl, runOpsDatabaseUrl, splitEnabled: true });
  try {
    for (let i = 0; i < 3; i++) await insertRun(store, "NEW");
  } finally {
    await close();
  }
  expect(await probeRunOpsResidue(runOpsDatabaseUrl)).toMatchObject({ state: "has_runs", runCount: 3, capped: false, newestRunAt: expect.any(Date) });
  expect(await probeRunOpsResidue(runOpsDatabaseUrl, { cap: 2 })).toMatchObject({ state: "has_runs", runCount: 2, capped: true });

  // A database without the run tables (never migrated) holds nothing.
  const admin = new pg.Client({ connectionString: runOpsDatabaseUrl });
  await admin.connect();
  try {
    await admin.query(`DROP TABLE "TaskRun" CASCADE`);
  } finally {
    await admin.end();
  }
  expect(await probeRunOpsResidue(runOpsDatabaseUrl)).toEqual({ state: "empty", migrated: false });

  const unreachable = new URL(runOpsDatabaseUrl);
  unreachable.port = "1";
  expect(await probeRunOpsResidue(unreachable.toString(), { timeoutMs: 2_000 })).toMatchObject({ state: "unreachable" });
});
