import { createRunStoreFromUrls, RunOpsDataUnavailableError } from "@internal/run-store";
import { createTestRedis, heteroPostgresTest } from "@internal/testcontainers";
import { fromFriendlyId, generateFriendlyId, type MintKind } from "@runplane/core";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { boot } from "~/services/boot.server";
import { errorToResponse } from "~/services/httpErrors.server";
import { createLogger, type Logger } from "~/services/logger.server";
import { createRuntime, getRuntime } from "~/services/runtime.server";
import { BackgroundWorkerRegistry } from "~/services/backgroundWorkers.server";
import { parseEnv } from "~/env.server";
import { runBootSentinels } from "~/v3/runOpsMigration/bootSentinels.server";
import { runOpsConfigFromEnv } from "~/v3/runOpsMigration/config.server";
import { clearSingleton } from "~/utils/singleton.server";
import { SplitRefusedError } from "~/v3/runOpsMigration/errors.server";
import { checkSplitOffResidue, newIdWhileSplitOffPolicy } from "~/v3/runOpsMigration/splitOffGuard.server";

const RUN_OPS_URL = "postgresql://postgres@127.0.0.1:5432/ops";

function captureLogger(): { logger: Logger; lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const logger = createLogger({ level: "debug", sink: (level, line) => void lines.push({ level, message: JSON.parse(line).message }) });
  return { logger, lines };
}

describe("checkSplitOffResidue", () => {
  const env = { RUN_OPS_SPLIT_ENABLED: false, RUN_OPS_DATABASE_URL: RUN_OPS_URL, RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS: false };

  it("split on, or no run-ops URL: nothing to probe", async () => {
    const probe = vi.fn();
    expect(await checkSplitOffResidue({ ...env, RUN_OPS_SPLIT_ENABLED: true }, { probe })).toEqual({ residue: "not_applicable" });
    expect(await checkSplitOffResidue({ ...env, RUN_OPS_DATABASE_URL: undefined }, { probe })).toEqual({ residue: "none" });
    expect(probe).not.toHaveBeenCalled();
  });

  it("an empty or unmigrated run-ops database strands nothing", async () => {
    expect(await checkSplitOffResidue(env, { probe: async () => ({ state: "empty", migrated: true }) })).toMatchObject({ residue: "none" });
    expect(await checkSplitOffResidue(env, { probe: async () => ({ state: "empty", migrated: false }) })).toMatchObject({ residue: "none" });
  });

  it("runs in the run-ops database refuse boot, naming the override", async () => {
    const probe = async () => ({ state: "has_runs" as const, runCount: 1000, capped: true, newestRunAt: new Date() });
    const error = await checkSplitOffResidue(env, { probe }).catch((e) => e);
    expect(error).toBeInstanceOf(SplitRefusedError);
    expect(error.message).toMatch(/holds 1000\+ runs/);
    expect(error.message).toMatch(/RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS=true/);
  });

  it("the override boots with an error-level warning; an unreachable database only warns", async () => {
    const { logger, lines } = captureLogger();
    const probe = async () => ({ state: "has_runs" as const, runCount: 3, capped: false, newestRunAt: null });
    expect(await checkSplitOffResidue({ ...env, RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS: true }, { probe, logger })).toMatchObject({ residue: "present" });
    expect(lines).toEqual([{ level: "error", message: expect.stringMatching(/^STARTING WITH SPLIT OFF WHILE THE RUN-OPS DATABASE HOLDS RUNS/) }]);
    const unreachable = async () => ({ state: "unreachable" as const, error: "connect ECONNREFUSED" });
    expect(await checkSplitOffResidue(env, { probe: unreachable, logger })).toMatchObject({ residue: "unknown" });
    expect(lines[1]).toMatchObject({ level: "warn" });
  });
});

describe("newIdWhileSplitOffPolicy", () => {
  it("answers 410 when runs may be stranded, otherwise logs and lets the read go to the control plane", async () => {
    const { logger, lines } = captureLogger();
    const id = generateFriendlyId("run", "NEW");
    for (const state of [{ residue: "present" }, { residue: "unknown" }] as const) {
      expect(() => newIdWhileSplitOffPolicy({ ...state, probe: { state: "unreachable", error: "x" } }, logger)(id)).toThrow(RunOpsDataUnavailableError);
    }
    expect(() => newIdWhileSplitOffPolicy({ residue: "none" }, logger)(id)).not.toThrow();
    expect(() => newIdWhileSplitOffPolicy(undefined, logger)(id)).not.toThrow();
    expect(lines.map((l) => l.level)).toEqual(["warn", "warn", "warn", "warn"]);

    const response = errorToResponse(new RunOpsDataUnavailableError(id), logger);
    expect(response.status).toBe(410);
    expect(await response.json()).toMatchObject({ code: "run_ops_data_unavailable", error: expect.stringContaining("RUN_OPS_SPLIT_ENABLED is off") });
  });
});

describe("boot with split turned off after NEW runs exist", () => {
  const saved = { ...process.env };
  function setEnv(vars: Record<string, string>) {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved, vars);
    for (const name of ["env", "boot", "runtime"]) clearSingleton(name);
  }
  afterEach(() => setEnv({}));
  const testRedis = createTestRedis();
  afterAll(() => testRedis.cleanup());

  async function seedRun(urls: { databaseUrl: string; runOpsDatabaseUrl: string }, kind: MintKind) {
    const { store, close } = createRunStoreFromUrls({ ...urls, splitEnabled: true });
    try {
      const friendlyId = generateFriendlyId("run", kind);
      const id = fromFriendlyId(friendlyId, "run");
      await store.clientFor(id).taskRun.create({
        data: {
          id,
          friendlyId,
          runtimeEnvironmentId: "env_x",
          projectId: "proj_x",
          organizationId: "org_x",
          taskIdentifier: "hello",
          payload: "{}",
          traceId: "t",
          spanId: "s",
          queue: "task/hello",
          runTags: [],
        },
      });
      return friendlyId;
    } finally {
      await close();
    }
  }

  heteroPostgresTest("refuses to boot; the override boots and answers 410 for NEW ids, legacy runs stay readable", async ({ databaseUrl, runOpsDatabaseUrl }) => {
    const newRun = await seedRun({ databaseUrl, runOpsDatabaseUrl }, "NEW");
    const legacyRun = await seedRun({ databaseUrl, runOpsDatabaseUrl }, "LEGACY");
    const common = {
      DATABASE_URL: databaseUrl,
      RUN_OPS_DATABASE_URL: runOpsDatabaseUrl,
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_KEY_PREFIX: testRedis.keyPrefix,
      LOG_LEVEL: "error",
      RUN_ENGINE_WORKER_ENABLED: "false",
      MOLLIFIER_DRAINER_ENABLED: "false",
      MOLLIFIER_STALE_SWEEP_ENABLED: "false",
    };

    setEnv(common);
    const refused = await boot().catch((e) => e);
    expect(refused).toBeInstanceOf(SplitRefusedError);
    expect(refused.message).toMatch(/holds 1 runs/);
    expect(() => getRuntime()).toThrow(/not booted/);

    setEnv({ ...common, RUN_OPS_ALLOW_SPLIT_OFF_WITH_RUNS: "true" });
    const app = await boot();
    try {
      expect(app.runtime.runOps.splitOff).toMatchObject({ residue: "present" });
      const store = app.runtime.runStore;
      expect((await store.findRun({ friendlyId: legacyRun }))?.friendlyId).toBe(legacyRun);
      await expect(store.findRun({ friendlyId: newRun })).rejects.toMatchObject({ status: 410, code: "run_ops_data_unavailable" });
      await expect(app.runtime.engine.getLatestSnapshot(newRun)).rejects.toBeInstanceOf(RunOpsDataUnavailableError);
    } finally {
      await app.shutdown();
    }
  });

  heteroPostgresTest("with an empty run-ops database split off starts; a NEW id reads the control plane (null), logged", async ({ databaseUrl, runOpsDatabaseUrl }) => {
    // The boot steps without the process-wide singletons: sentinels, then the runtime they configure.
    const env = parseEnv({ DATABASE_URL: databaseUrl, RUN_OPS_DATABASE_URL: runOpsDatabaseUrl, REDIS_URL: "redis://127.0.0.1:6379" });
    const config = runOpsConfigFromEnv(env);
    const { logger, lines } = captureLogger();
    await runBootSentinels(config, env, { logger });
    expect(config.splitOff).toMatchObject({ residue: "none", probe: { state: "empty", migrated: true } });
    const runtime = createRuntime(env, config, logger, new BackgroundWorkerRegistry());
    try {
      expect(await runtime.runStore.findRun({ friendlyId: generateFriendlyId("run", "NEW") })).toBeNull();
      expect(lines).toContainEqual({ level: "warn", message: expect.stringMatching(/run-ops id requested while split is off; reading the control-plane database/) });
    } finally {
      await runtime.close();
    }
  });
});
