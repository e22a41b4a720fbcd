import { describe, expect, it, vi } from "vitest";
import { heteroPostgresTest, postgresTest } from "@internal/testcontainers";
import { parseEnv } from "~/env.server";
import { runBootSentinels } from "~/v3/runOpsMigration/bootSentinels.server";
import { runOpsConfigFromEnv } from "~/v3/runOpsMigration/config.server";
import { fingerprintDatabase } from "~/v3/runOpsMigration/databaseFingerprint.server";
import { probeDistinctDatabases } from "~/v3/runOpsMigration/distinctDatabases.server";
import { SplitRefusedError } from "~/v3/runOpsMigration/errors.server";

const REDIS_URL = "redis://127.0.0.1:6379";

function withHost(databaseUrl: string, host: string, extra?: Record<string, string>): string {
  const url = new URL(databaseUrl);
  url.hostname = host;
  for (const [k, v] of Object.entries(extra ?? {})) url.searchParams.set(k, v);
  return url.toString();
}

function splitConfig(databaseUrl: string, runOpsUrl: string, extra: Record<string, string> = {}) {
  const env = parseEnv({
    DATABASE_URL: databaseUrl,
    RUN_OPS_DATABASE_URL: runOpsUrl,
    RUN_OPS_SPLIT_ENABLED: "true",
    REDIS_URL,
    ...extra,
  });
  return { env, config: runOpsConfigFromEnv(env) };
}

describe("runOpsConfigFromEnv", () => {
  const databaseUrl = "postgresql://postgres@127.0.0.1:5432/cp";
  const runOpsUrl = "postgresql://postgres@127.0.0.1:5432/ops";

  it("split off: one database, cuids, even when the mint flag and a run-ops URL are set", () => {
    const config = runOpsConfigFromEnv(
      parseEnv({ DATABASE_URL: databaseUrl, RUN_OPS_DATABASE_URL: runOpsUrl, RUN_OPS_MINT_NEW_IDS: "true", REDIS_URL })
    );
    expect(config).toMatchObject({ splitEnabled: false, mintKind: "LEGACY" });
    expect(config.runOpsDatabaseUrl).toBeUndefined();
    expect(config.notes).toEqual([
      { level: "warn", message: expect.stringContaining("RUN_OPS_MINT_NEW_IDS is ignored") },
      { level: "info", message: expect.stringContaining("RUN_OPS_DATABASE_URL is set but RUN_OPS_SPLIT_ENABLED is off") },
    ]);
  });

  it("split on: the mint flag picks the id family", () => {
    expect(splitConfig(databaseUrl, runOpsUrl).config).toMatchObject({
      splitEnabled: true,
      runOpsDatabaseUrl: runOpsUrl,
      mintKind: "LEGACY",
    });
    expect(splitConfig(databaseUrl, runOpsUrl, { RUN_OPS_MINT_NEW_IDS: "1" }).config.mintKind).toBe("NEW");
  });
});

describe("boot sentinels", () => {
  it("do nothing while split is off (no probe)", async () => {
    const probe = vi.fn();
    const env = parseEnv({ DATABASE_URL: "postgresql://x@127.0.0.1:1/a", REDIS_URL, REALTIME_BACKEND: "electric" });
    await runBootSentinels(runOpsConfigFromEnv(env), env, { probe });
    expect(probe).not.toHaveBeenCalled();
  });

  it("refuse split with the electric realtime backend, before probing", async () => {
    const probe = vi.fn();
    const { env, config } = splitConfig("postgresql://a@127.0.0.1/cp", "postgresql://a@127.0.0.1/ops", {
      REALTIME_BACKEND: "electric",
    });
    const refusal = runBootSentinels(config, env, { probe });
    await expect(refusal).rejects.toBeInstanceOf(SplitRefusedError);
    await expect(refusal).rejects.toThrow(/RUN_OPS_SPLIT_ENABLED is on but REALTIME_BACKEND=electric/);
    expect(probe).not.toHaveBeenCalled();
  });

  postgresTest("refuse split when both URLs reach the same database, however they are spelled", async ({ databaseUrl }) => {
    const sameDatabase = withHost(databaseUrl, "localhost", { application_name: "another-spelling" });
    expect(sameDatabase).not.toBe(databaseUrl);

    const { env, config } = splitConfig(databaseUrl, sameDatabase);
    const refusal = runBootSentinels(config, env);
    await expect(refusal).rejects.toBeInstanceOf(SplitRefusedError);
    await expect(refusal).rejects.toThrow(/DATABASE_URL and RUN_OPS_DATABASE_URL reach the same physical database/);
  });

  heteroPostgresTest("accept split onto two distinct databases", async ({ databaseUrl, runOpsDatabaseUrl }) => {
    const { env, config } = splitConfig(databaseUrl, runOpsDatabaseUrl);
    await expect(runBootSentinels(config, env)).resolves.toBeUndefined();

    const verdict = await probeDistinctDatabases(databaseUrl, runOpsDatabaseUrl);
    expect(verdict.distinct).toBe(true);
    if (verdict.distinct) {
      expect(verdict.controlPlane.databaseName).not.toBe(verdict.runOps.databaseName);
      expect(verdict.controlPlane.databaseOid).not.toBe(verdict.runOps.databaseOid);
    }
  });

  postgresTest("refuse split when a database cannot be reached (fail closed)", async ({ databaseUrl }) => {
    const unreachable = "postgresql://postgres@127.0.0.1:1/runplane_run_ops";
    const { env, config } = splitConfig(databaseUrl, unreachable);
    const refusal = runBootSentinels(config, env);
    await expect(refusal).rejects.toBeInstanceOf(SplitRefusedError);
    await expect(refusal).rejects.toThrow(/probe failed \(RUN_OPS_DATABASE_URL: .*\); failing closed/);
  });

  postgresTest("refuse split when the run-ops database does not exist", async ({ databaseUrl }) => {
    const missing = new URL(databaseUrl);
    missing.pathname = "/runplane_does_not_exist_" + Date.now();
    const verdict = await probeDistinctDatabases(databaseUrl, missing.toString());
    expect(verdict).toMatchObject({ distinct: false });
  });

  it("refuse split when a probe throws anything at all", async () => {
    const verdict = await probeDistinctDatabases("postgresql://a/cp", "postgresql://a/ops", async (url) => {
      if (url.endsWith("/ops")) throw new Error("permission denied for function pg_control_system");
      return { systemIdentifier: "1", databaseName: "cp", databaseOid: "1" };
    });
    expect(verdict).toEqual({
      distinct: false,
      reason: expect.stringContaining("RUN_OPS_DATABASE_URL: permission denied for function pg_control_system"),
    });
  });

  postgresTest("the fingerprint is stable across connections", async ({ databaseUrl }) => {
    const a = await fingerprintDatabase(databaseUrl);
    const b = await fingerprintDatabase(withHost(databaseUrl, "localhost"));
    expect(a).toEqual(b);
    expect(a.systemIdentifier).toMatch(/^\d+$/);
  });
});
