import { generateCuid, generateFriendlyId, generateKsuid } from "@runplane/core";
import { heteroPostgresTest } from "@internal/testcontainers";
import { describe, expect, it } from "vitest";
import {
  CrossSeamGuardError,
  UNBLOCK_ROUTES,
  assertInheritedResidency,
  createRunStoreFromUrls,
  decideUnblock,
  decideWaitpointHome,
  engineStore,
  hintFromWaitpoint,
  locateWaitpoint,
  type RunStoreLog,
} from "../src/index.js";

const SPLIT = { splitEnabled: true };
const SINGLE = { splitEnabled: false };
const legacyRun = () => generateCuid();
const newRun = () => generateKsuid();

describe("decideWaitpointHome", () => {
  it("follows the owner: RUN and DATETIME beside their run, BATCH beside its batch", () => {
    expect(decideWaitpointHome({ route: "RUN", ownerId: newRun() }, SPLIT)).toMatchObject({ residency: "NEW", reason: "owner_run" });
    expect(decideWaitpointHome({ route: "RUN", ownerId: legacyRun() }, SPLIT)).toMatchObject({ residency: "LEGACY", reason: "owner_run" });
    expect(decideWaitpointHome({ route: "DATETIME", ownerId: `run_${newRun()}` }, SPLIT)).toMatchObject({ residency: "NEW" });
    expect(decideWaitpointHome({ route: "BATCH", ownerId: generateFriendlyId("batch", "NEW") }, SPLIT)).toMatchObject({ residency: "NEW", reason: "owner_batch" });
    expect(decideWaitpointHome({ route: "BATCH", ownerId: generateFriendlyId("batch", "LEGACY") }, SPLIT)).toMatchObject({ residency: "LEGACY" });
  });

  it("pins a standalone token to the control plane; a run-scoped token follows its run", () => {
    expect(decideWaitpointHome({ route: "TOKEN" }, SPLIT)).toEqual({ residency: "LEGACY", route: "TOKEN", reason: "standalone_token", ownerId: null });
    expect(decideWaitpointHome({ route: "TOKEN", ownerId: newRun() }, SPLIT)).toMatchObject({ residency: "NEW", reason: "owner_run" });
  });

  it("split off: the one database, whatever the owner's shape", () => {
    for (const route of UNBLOCK_ROUTES) {
      expect(decideWaitpointHome({ route, ownerId: newRun() }, SINGLE)).toMatchObject({ residency: "LEGACY", reason: "single_database" });
    }
  });

  it("refuses an unknown route, a missing owner, and an owner of no known shape", () => {
    expect(() => decideWaitpointHome({ route: "MANUAL" as never }, SPLIT)).toThrow(/unknown unblock route "MANUAL"/);
    expect(() => decideWaitpointHome({ route: "MANUAL" as never }, SINGLE)).toThrow(CrossSeamGuardError);
    for (const route of ["RUN", "BATCH", "DATETIME"] as const) {
      expect(() => decideWaitpointHome({ route }, SPLIT)).toThrow(/none was given/);
    }
    expect(() => decideWaitpointHome({ route: "RUN", ownerId: "run_not-an-id" }, SPLIT)).toThrow(/no known id shape/);
  });
});

describe("decideUnblock", () => {
  it("same database: no seam", () => {
    const run = newRun();
    expect(decideUnblock({ waitpoint: { route: "DATETIME", ownerId: run }, waiterRunId: run }, SPLIT)).toMatchObject({ waiter: "NEW", crossSeam: false });
    expect(decideUnblock({ waitpoint: { route: "RUN", ownerId: newRun() }, waiterRunId: newRun() }, SPLIT)).toMatchObject({ crossSeam: false });
  });

  it("pins the pairs that may straddle the seam to the waitpoint's owner", () => {
    expect(decideUnblock({ waitpoint: { route: "TOKEN" }, waiterRunId: `run_${newRun()}` }, SPLIT)).toMatchObject({
      waiter: "NEW",
      crossSeam: true,
      pin: "standalone_token",
      waitpoint: { residency: "LEGACY" },
    });
    expect(decideUnblock({ waitpoint: { route: "TOKEN", ownerId: newRun() }, waiterRunId: legacyRun() }, SPLIT)).toMatchObject({ pin: "run_scoped_token" });
    // An idempotent triggerAndWait that returned a run of another tree: the RUN waitpoint stays with that run.
    expect(decideUnblock({ waitpoint: { route: "RUN", ownerId: newRun() }, waiterRunId: legacyRun() }, SPLIT)).toMatchObject({
      waiter: "LEGACY",
      crossSeam: true,
      pin: "cross_tree_run",
      waitpoint: { residency: "NEW" },
    });
  });

  it("refuses a batch in another database than its waiter, and another run's datetime wait", () => {
    expect(() =>
      decideUnblock({ waitpoint: { route: "BATCH", ownerId: generateFriendlyId("batch", "NEW") }, waiterRunId: legacyRun() }, SPLIT)
    ).toThrow(/a batch lives in the database of the run that waits on it/);
    expect(() => decideUnblock({ waitpoint: { route: "DATETIME", ownerId: newRun() }, waiterRunId: newRun() }, SPLIT)).toThrow(
      /belongs to the run that waits/
    );
    // The datetime rule holds in single-database mode too.
    expect(() => decideUnblock({ waitpoint: { route: "DATETIME", ownerId: legacyRun() }, waiterRunId: legacyRun() }, SINGLE)).toThrow(CrossSeamGuardError);
  });

  it("split off: everything in the one database, no seam", () => {
    expect(decideUnblock({ waitpoint: { route: "RUN", ownerId: newRun() }, waiterRunId: legacyRun() }, SINGLE)).toMatchObject({
      waiter: "LEGACY",
      crossSeam: false,
      waitpoint: { residency: "LEGACY" },
    });
  });
});

describe("assertInheritedResidency", () => {
  it("accepts a child, batch or batch item with its anchor's shape", () => {
    expect(() => assertInheritedResidency({ id: generateFriendlyId("run", "NEW"), parentRunId: generateFriendlyId("run", "NEW") })).not.toThrow();
    expect(() => assertInheritedResidency({ id: generateFriendlyId("run", "LEGACY"), batchId: generateFriendlyId("batch", "LEGACY") })).not.toThrow();
    expect(() => assertInheritedResidency({ id: generateFriendlyId("run", "NEW") })).not.toThrow();
  });

  it("refuses a shape that differs from the parent's or the batch's (422)", () => {
    const error = (() => {
      try {
        assertInheritedResidency({ id: generateFriendlyId("run", "NEW"), parentRunId: generateFriendlyId("run", "LEGACY") });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(CrossSeamGuardError);
    expect(error).toMatchObject({ status: 422, code: "cross_seam_refused" });
    expect(() =>
      assertInheritedResidency({ id: generateFriendlyId("run", "LEGACY"), batchId: generateFriendlyId("batch", "NEW"), what: "batch item" })
    ).toThrow(/batch item .* its batch .* is NEW/);
  });
});

describe("hintFromWaitpoint", () => {
  it("derives the route and owner from a stored row", () => {
    const base = { completedByTaskRunId: null, completedByBatchId: null, ownerRunId: null };
    expect(hintFromWaitpoint({ ...base, type: "RUN", completedByTaskRunId: "r" })).toEqual({ route: "RUN", ownerId: "r" });
    expect(hintFromWaitpoint({ ...base, type: "BATCH", completedByBatchId: "b" })).toEqual({ route: "BATCH", ownerId: "b" });
    expect(hintFromWaitpoint({ ...base, type: "DATETIME", ownerRunId: "r" })).toEqual({ route: "DATETIME", ownerId: "r" });
    expect(hintFromWaitpoint({ ...base, type: "MANUAL" })).toEqual({ route: "TOKEN", ownerId: null });
    expect(hintFromWaitpoint({ ...base, type: "RUN" })).toBeNull();
  });
});

function waitpointRow(type: "MANUAL" | "DATETIME" | "RUN", extra: Record<string, unknown> = {}) {
  const id = generateCuid();
  return {
    id,
    friendlyId: `waitpoint_${id}`,
    type,
    idempotencyKey: id,
    projectId: "proj_1",
    environmentId: "env_1",
    tags: [],
    ...extra,
  };
}

heteroPostgresTest("locateWaitpoint finds a waitpoint in its home, serves a stray one loudly, refuses a duplicate", async ({ databaseUrl, runOpsDatabaseUrl }) => {
  const logged: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const log: RunStoreLog = (level, message, fields) => void logged.push({ level, message, fields });
  const { store, close } = createRunStoreFromUrls({ databaseUrl, runOpsDatabaseUrl, splitEnabled: true, log });
  try {
    const legacy = store.router.client("LEGACY");
    const runOps = store.router.client("NEW");

    // A standalone token on the control plane: found there with the TOKEN hint (one database asked).
    const token = await legacy.waitpoint.create({ data: waitpointRow("MANUAL") });
    expect(await locateWaitpoint(store, token.id, { route: "TOKEN" })).toMatchObject({ residency: "LEGACY", misplaced: false });
    expect(await locateWaitpoint(store, token.id)).toMatchObject({ residency: "LEGACY", misplaced: false, home: { reason: "standalone_token" } });

    // A datetime wait of a NEW run: lives in run-ops.
    const owner = generateKsuid();
    const datetime = await runOps.waitpoint.create({ data: waitpointRow("DATETIME", { ownerRunId: owner }) });
    expect(await locateWaitpoint(store, datetime.id, { route: "DATETIME", ownerId: owner })).toMatchObject({ residency: "NEW", misplaced: false });

    // A NEW run's datetime waitpoint written to the control plane by mistake: served where it is, logged.
    const stray = await legacy.waitpoint.create({ data: waitpointRow("DATETIME", { ownerRunId: owner }) });
    expect(await locateWaitpoint(store, stray.id, { route: "DATETIME", ownerId: owner })).toMatchObject({ residency: "LEGACY", misplaced: true });
    expect(await locateWaitpoint(store, stray.id)).toMatchObject({ residency: "LEGACY", misplaced: true });
    expect(logged.filter((l) => l.message.includes("outside its home database"))).toHaveLength(2);

    // The same waitpoint in both databases: refused, and neither copy is completed.
    const twin = waitpointRow("MANUAL");
    await legacy.waitpoint.create({ data: twin });
    await runOps.waitpoint.create({ data: twin });
    await expect(locateWaitpoint(store, twin.id)).rejects.toThrow(/exists in both databases/);
    await expect(engineStore.completeWaitpointRows(store, twin.id, { outputIsError: false, completedAt: new Date() })).rejects.toBeInstanceOf(
      CrossSeamGuardError
    );
    expect((await legacy.waitpoint.findUniqueOrThrow({ where: { id: twin.id } })).status).toBe("PENDING");
    expect((await runOps.waitpoint.findUniqueOrThrow({ where: { id: twin.id } })).status).toBe("PENDING");

    expect(await locateWaitpoint(store, generateCuid(), { route: "TOKEN" })).toBeNull();
    expect(await locateWaitpoint(store, generateCuid())).toBeNull();
  } finally {
    await close();
  }
});
