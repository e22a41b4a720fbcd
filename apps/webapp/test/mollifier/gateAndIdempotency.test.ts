import { metrics } from "@opentelemetry/api";
import { ServiceUnavailableError } from "@runplane/core";
import type { MollifierBuffer } from "@runplane/redis-worker/mollifier";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { parseEnv } from "~/env.server";
import { renderPrometheus, setupMetrics } from "~/services/metrics.server";
import { MollifierConfigurationError, mollifierConfigFromEnv } from "~/v3/mollifier/config.server";
import { evaluateGate, parseOrgMollifierFlag } from "~/v3/mollifier/gate.server";
import { resetIdempotencyKeyEverywhere } from "~/v3/mollifier/idempotency.server";
import { findRunWithMollifierFallback } from "~/v3/mollifier/readFallback.server";
import { triggerWithMollifier, type TriggerPathInput } from "~/v3/mollifier/triggerWithMollifier.server";
import { setupHarness, type Harness } from "./harness";

// instruments are created on first use: the provider must be global before the harness builds them
setupMetrics();

describe("config", () => {
  const base = { DATABASE_URL: "postgresql://x@localhost/db", REDIS_URL: "redis://localhost:6379" };
  test("defaults: on, every mollifier key under REDIS_KEY_PREFIX", () => {
    const config = mollifierConfigFromEnv(parseEnv({ ...base, REDIS_KEY_PREFIX: "pfx:" }));
    expect(config).toMatchObject({ enabled: true, keyPrefix: "pfx:", trip: { windowMs: 200, threshold: 100, holdMs: 500 }, drainer: { enabled: true } });
  });
  test("a shutdown deadline that leaves the drainer no time is a named boot error", () => {
    expect(() => mollifierConfigFromEnv(parseEnv({ ...base, GRACEFUL_SHUTDOWN_TIMEOUT_MS: "500" }))).toThrow(MollifierConfigurationError);
    expect(() => mollifierConfigFromEnv(parseEnv({ ...base, GRACEFUL_SHUTDOWN_TIMEOUT_MS: "500" }))).toThrow(/GRACEFUL_SHUTDOWN_TIMEOUT_MS/);
    expect(() => mollifierConfigFromEnv(parseEnv({ ...base, GRACEFUL_SHUTDOWN_TIMEOUT_MS: "500", MOLLIFIER_DRAINER_ENABLED: "false" }))).not.toThrow();
  });
});

describe("gate", () => {
  test("org flag: a real boolean parse, default on", () => {
    expect(parseOrgMollifierFlag({})).toEqual({ enabled: true, invalid: false });
    expect(parseOrgMollifierFlag({ mollifierEnabled: "false" })).toEqual({ enabled: false, invalid: false });
    expect(parseOrgMollifierFlag({ mollifierEnabled: false })).toEqual({ enabled: false, invalid: false });
    expect(parseOrgMollifierFlag({ mollifierEnabled: "0" })).toEqual({ enabled: false, invalid: false });
    expect(parseOrgMollifierFlag({ mollifierEnabled: "TRUE" })).toEqual({ enabled: true, invalid: false });
    expect(parseOrgMollifierFlag({ mollifierEnabled: "banana" })).toEqual({ enabled: true, invalid: true });
    expect(parseOrgMollifierFlag(null)).toEqual({ enabled: true, invalid: false });
  });

  test("bypasses never count against the window: debounce, one-time token, triggerAndWait, batch items, opted-out orgs", async () => {
    let calls = 0;
    const deps = {
      enabled: () => true,
      evaluateTrip: async () => {
        calls += 1;
        return { divert: true as const, reason: "per_env_rate" as const, count: 9, threshold: 5, windowMs: 200, holdMs: 500 };
      },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    };
    const input = { envId: "e", orgId: "o", taskIdentifier: "t", orgFeatureFlags: {}, options: {} };
    const cases = [
      { options: { debounce: { key: "k", delay: "1s" } } },
      { options: { oneTimeUseToken: "tok" } },
      { options: { parentRunId: "run_p", resumeParentOnCompletion: true } },
      { options: { isBatchItem: true } },
      { orgFeatureFlags: { mollifierEnabled: "false" } },
    ];
    for (const c of cases) expect((await evaluateGate({ ...input, ...c }, deps)).action).toBe("pass_through");
    expect(calls).toBe(0);
    // a child that does not wait is eligible
    expect((await evaluateGate({ ...input, options: { parentRunId: "run_p" } }, deps)).action).toBe("mollify");
    expect((await evaluateGate(input, { ...deps, enabled: () => false })).action).toBe("pass_through");
    // a throwing evaluator fails open
    expect((await evaluateGate(input, { ...deps, evaluateTrip: async () => Promise.reject(new Error("boom")) })).action).toBe("pass_through");
  });
});

describe("with a real buffer", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await setupHarness();
  });
  afterEach(async () => {
    await h?.close();
  });

  const path = (overrides: Omit<Partial<TriggerPathInput>, "trigger"> & { trigger?: Partial<TriggerPathInput["trigger"]> } = {}, buffer?: MollifierBuffer) =>
    triggerWithMollifier(
      {
        buffer: buffer ?? h.mollifier.buffer,
        config: h.config,
        runStore: h.store,
        evaluateTrip: h.mollifier.evaluateTrip,
        mintKind: "LEGACY",
        logger: h.logger,
      },
      { orgFeatureFlags: {}, options: {}, ...overrides, trigger: h.trigger(overrides.trigger ?? {}) },
      {
        next: async () => {
          const { run, isCached } = await h.engine.trigger(h.trigger(overrides.trigger ?? {}));
          return { id: run.friendlyId, isCached, buffered: false };
        },
        runIdOf: (r) => r.id,
        buffered: (r) => ({ id: r.id, isCached: r.isCached, buffered: true }),
      }
    );

  test("the trip: threshold 5 → triggers 1-5 pass through, the 6th is buffered; decisions are exported on /metrics without ids", async () => {
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await path());
    expect(results.map((r) => r.buffered)).toEqual([false, false, false, false, false, true, true]);
    const text = await renderPrometheus();
    expect(text).toMatch(/mollifier_decisions_total\{outcome="mollify",enrolled="true",reason="per_env_rate"\} \d+/);
    expect(text).toMatch(/mollifier_decisions_total\{outcome="pass_through",enrolled="true"\} \d+/);
    expect(text).toMatch(/mollifier_buffer_depth \d+/);
    expect(text).not.toContain(h.env.id);
    expect(metrics.getMeterProvider()).toBe(setupMetrics().provider);
  });

  test("an opted-out org (featureFlags.mollifierEnabled = \"false\") is never buffered", async () => {
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await path({ orgFeatureFlags: { mollifierEnabled: "false" } }));
    expect(results.every((r) => !r.buffered)).toBe(true);
  });

  test("same key while buffered → the same run id; concurrent same-key triggers converge on one run", async () => {
    for (let i = 0; i < 6; i++) await path(); // trip the env
    const first = await path({ trigger: { idempotencyKey: "k1" } });
    expect(first).toMatchObject({ buffered: true, isCached: false });
    const again = await path({ trigger: { idempotencyKey: "k1" } });
    expect(again).toMatchObject({ id: first.id, isCached: true });

    const concurrent = await Promise.all(Array.from({ length: 20 }, () => path({ trigger: { idempotencyKey: "k2" } })));
    expect(new Set(concurrent.map((r) => r.id)).size).toBe(1);
    expect(concurrent.filter((r) => !r.isCached)).toHaveLength(1);

    await h.drainAll();
    const rows = await h.store.allClients()[0]!.taskRun.findMany({ where: { idempotencyKey: { in: ["k1", "k2"] } } });
    expect(rows.map((r) => r.friendlyId).sort()).toEqual([first.id, concurrent[0]!.id].sort());
  });

  test("reset while buffered: the key is released and the buffered run materialises without it", async () => {
    for (let i = 0; i < 6; i++) await path();
    const first = await path({ trigger: { idempotencyKey: "k" } });
    const outcome = await resetIdempotencyKeyEverywhere(
      { buffer: h.mollifier.buffer, logger: h.logger },
      {
        envId: h.env.id,
        taskIdentifier: "hello",
        idempotencyKey: "k",
        pgReset: () => h.engine.resetIdempotencyKey(h.env.id, "hello", "k").catch(() => 0),
      }
    );
    expect(outcome).toEqual({ kind: "reset", pgCount: 0, bufferedRunId: first.id });
    const second = await path({ trigger: { idempotencyKey: "k" } });
    expect(second.id).not.toBe(first.id);
    await h.drainAll();
    expect((await h.store.findRun({ friendlyId: first.id }))?.idempotencyKey).toBeNull();
    expect((await h.store.findRun({ friendlyId: second.id }))?.idempotencyKey).toBe("k");
  });

  test("503 when the buffer cannot be checked (keyed trigger, idempotency reset)", async () => {
    const broken = Object.create(h.mollifier.buffer) as MollifierBuffer;
    broken.lookupIdempotency = async () => Promise.reject(new Error("ECONNREFUSED"));
    broken.resetIdempotency = async () => Promise.reject(new Error("ECONNREFUSED"));
    await expect(path({ trigger: { idempotencyKey: "k" } }, broken)).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(
      resetIdempotencyKeyEverywhere({ buffer: broken, logger: h.logger }, { envId: h.env.id, taskIdentifier: "hello", idempotencyKey: "k", pgReset: async () => 0 })
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  test("the stale sweep: one lease holder, stale entries counted per env and exported", async () => {
    const { mollifyTrigger } = await import("~/v3/mollifier/mollify.server");
    await mollifyTrigger({ buffer: h.mollifier.buffer, mintKind: "LEGACY", logger: h.logger }, { trigger: h.trigger({ createdAt: new Date(Date.now() - 600_000) }) });
    const { createStaleSweepWorker } = await import("~/v3/mollifier/workers.server");
    // one sweep per process: the gauge reads the process's own (the runtime's) sweep
    const a = h.mollifier.staleSweepWorker;
    const ra = await a.sweep.runStaleSweepTick({ now: Date.now(), thresholdMs: 300_000, shardCount: 1 });
    expect(ra).toMatchObject({ skipped: false, staleTotal: 1, counts: { [h.env.id]: 1 } });
    expect(await renderPrometheus()).toMatch(/mollifier_stale_entries_current 1/);
    // another instance: the lease is held, it skips
    const b = createStaleSweepWorker({ buffer: h.mollifier.buffer, config: { ...h.config.staleSweep, shardCount: 1 }, logger: h.logger });
    const rb = await b.sweep.runStaleSweepTick({ now: Date.now(), thresholdMs: 300_000, shardCount: 1 });
    expect(rb).toMatchObject({ skipped: true });
    await a.stop(1_000);
    // the holder released the lease: the other takes over at once
    expect(await b.sweep.runStaleSweepTick({ now: Date.now(), thresholdMs: 300_000, shardCount: 1 })).toMatchObject({ skipped: false });
    await b.stop(1_000);
  });
});
