import { describe, expect, it } from "vitest";
import { BufferEntrySchema, RetryableDrainError, TerminalDrainError, drainBackoffMs, isRetryableDrainError, parseEntryHash } from "../src/mollifier/index.js";

describe("isRetryableDrainError", () => {
  const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });

  it("retries connection, timeout and unreachable-database failures", () => {
    for (const error of [
      withCode("ECONNREFUSED"),
      withCode("ETIMEDOUT"),
      withCode("P1001"),
      withCode("P2024"),
      withCode("57P01"),
      Object.assign(new Error("x"), { errorCode: "P1001" }),
      new Error("Can't reach database server at `db:5432`"),
      new Error("Postgres unreachable"),
      new Error("Connection terminated unexpectedly"),
      new Error("Timed out fetching a new connection from the connection pool"),
      Object.assign(new Error("aborted"), { name: "TimeoutError" }),
      new Error("trigger failed", { cause: withCode("ECONNRESET") }),
      new RetryableDrainError("explicit"),
    ]) {
      expect(isRetryableDrainError(error), error.message).toBe(true);
    }
  });

  it("treats everything else as terminal", () => {
    for (const error of [
      withCode("P2002", "Unique constraint failed"),
      new Error("createCancelledRun conflict: existing run has status EXECUTING"),
      new SyntaxError("Unexpected token"),
      new TerminalDrainError("explicit, even if it mentions ECONNREFUSED"),
      "ECONNREFUSED",
      null,
    ]) {
      expect(isRetryableDrainError(error)).toBe(false);
    }
  });
});

describe("drainBackoffMs", () => {
  it("doubles from the floor, caps at the max, and jitters within [d/2, d]", () => {
    const opts = { floorMs: 100, maxMs: 5_000 };
    expect([0, 1, 2, 3, 6, 10].map((a) => drainBackoffMs(a, { ...opts, random: () => 1 }))).toEqual([100, 200, 400, 800, 5_000, 5_000]);
    expect(drainBackoffMs(2, { ...opts, random: () => 0 })).toBe(200);
    for (let i = 0; i < 100; i++) {
      const d = drainBackoffMs(3, opts);
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });
});

describe("BufferEntrySchema", () => {
  const base = {
    runId: "run_1",
    envId: "env_a",
    orgId: "org_a",
    payload: "{}",
    status: "QUEUED",
    attempts: "0",
    createdAt: "2026-01-01T00:00:00.000Z",
  };

  it("fills defaults for optional fields and treats a cjson `{}` tag list as empty", () => {
    const entry = parseEntryHash({ ...base, tags: "{}" })!;
    expect(entry).toMatchObject({ metadataVersion: 0, idempotencyLookupKey: "", tags: [], nextAttemptAt: null, leaseId: 0, materialised: false });
    expect(entry.createdAtMs).toBe(Date.parse(base.createdAt));
  });

  it("parses lastError and rejects malformed shapes", () => {
    expect(parseEntryHash({ ...base, lastError: '{"code":"E","message":"m"}' })!.lastError).toEqual({ code: "E", message: "m" });
    expect(BufferEntrySchema.safeParse({ ...base, attempts: "-1" }).success).toBe(false);
    expect(BufferEntrySchema.safeParse({ ...base, status: "FAILED" }).success).toBe(false);
    expect(parseEntryHash({ ...base, createdAt: "yesterday" })).toBeNull();
    expect(parseEntryHash({})).toBeNull();
    expect(parseEntryHash(["runId", "run_1", "envId", "env_a", "orgId", "org_a", "payload", "{}", "status", "DRAINING", "attempts", "2", "createdAt", base.createdAt])).toMatchObject({
      status: "DRAINING",
      attempts: 2,
    });
  });
});
