import { SignJWT, decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  batchResponseHeaders,
  canBatchTrigger,
  canCancelRun,
  canCompleteWaitpoint,
  canListRuns,
  canReadBatch,
  canReadRun,
  canResetIdempotencyKey,
  canSubscribeToTags,
  canTriggerTask,
  isPublicToken,
  oneTimeUseKey,
  parseScope,
  peekPublicTokenSubject,
  scopeAllows,
  signPublicToken,
  triggerResponseHeaders,
  verifyPublicToken,
  waitpointTokenResponseHeaders,
} from "../src/auth/index.js";

const SECRET = "tr_dev_barsbarsbarsbarsbars01";

/** A token made the way the SDK signs its own (root key, claims from /jwt/claims). */
function sdkStyleToken(payload: Record<string, unknown>, expirationTime: string | number = "15m", secret = SECRET) {
  return new SignJWT(payload)
    .setIssuer("https://id.trigger.dev")
    .setAudience("https://api.trigger.dev")
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(expirationTime)
    .setIssuedAt()
    .sign(new TextEncoder().encode(secret));
}

describe("public tokens", () => {
  it("round-trips claims", async () => {
    const token = await signPublicToken({
      secretKey: SECRET,
      environmentId: "env_1",
      scopes: ["read:runs:run_1"],
      oneTimeUse: true,
      realtime: { skipColumns: ["payload"] },
    });
    expect(isPublicToken(token)).toBe(true);
    expect(peekPublicTokenSubject(token)).toBe("env_1");
    const result = await verifyPublicToken(token, SECRET);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.claims).toMatchObject({ sub: "env_1", pub: true, scopes: ["read:runs:run_1"], otu: true });
    expect(result.claims.exp - result.claims.iat!).toBe(15 * 60);
  });

  it("accepts what the SDK signs, including a token without scopes", async () => {
    const withScopes = await sdkStyleToken({ sub: "env_1", pub: true, scopes: ["read:tags:t"] }, "1h");
    expect((await verifyPublicToken(withScopes, SECRET)).ok).toBe(true);
    const noScopes = await sdkStyleToken({ sub: "env_1", pub: true });
    const result = await verifyPublicToken(noScopes, SECRET);
    expect(result.ok && result.claims.scopes).toEqual([]);
  });

  it("rejects a wrong key, an expired token, a foreign audience and a non-public JWT", async () => {
    const token = await sdkStyleToken({ sub: "env_1", pub: true, scopes: [] });
    expect(await verifyPublicToken(token, "tr_dev_other")).toEqual({
      ok: false,
      code: "invalid",
      error: "Public Access Token is invalid",
    });
    const expired = await sdkStyleToken({ sub: "env_1", pub: true }, Math.floor(Date.now() / 1000) - 10);
    expect(await verifyPublicToken(expired, SECRET)).toMatchObject({ ok: false, code: "expired" });
    const foreign = await new SignJWT({ sub: "env_1", pub: true })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("https://id.trigger.dev")
      .setAudience("https://elsewhere")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    expect((await verifyPublicToken(foreign, SECRET)).ok).toBe(false);
    const notPublic = await sdkStyleToken({ sub: "env_1" });
    expect(isPublicToken(notPublic)).toBe(false);
    expect(await verifyPublicToken(notPublic, SECRET)).toMatchObject({ ok: false, code: "invalid" });
    expect(isPublicToken("tr_dev_key")).toBe(false);
    expect(peekPublicTokenSubject("nope")).toBeUndefined();
  });

  it("hashes one-time tokens stably", () => {
    expect(oneTimeUseKey("a.b.c")).toMatch(/^[0-9a-f]{64}$/);
    expect(oneTimeUseKey("a.b.c")).toBe(oneTimeUseKey("a.b.c"));
  });

  it("mints the response-header tokens with the right scopes and lifetimes", async () => {
    const input = { secretKey: SECRET, environmentId: "env_1" };
    const trigger = await triggerResponseHeaders({ ...input, runFriendlyId: "run_1" });
    expect(JSON.parse(trigger["x-trigger-jwt-claims"])).toEqual({ sub: "env_1", pub: true });
    const claims = decodeJwt(trigger["x-trigger-jwt"]);
    expect(claims.scopes).toEqual(["read:runs:run_1", "write:inputStreams:run_1"]);
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(decodeJwt((await batchResponseHeaders({ ...input, batchFriendlyId: "batch_1" }))["x-trigger-jwt"]).scopes).toEqual([
      "read:batch:batch_1",
    ]);
    const token = decodeJwt((await waitpointTokenResponseHeaders({ ...input, waitpointFriendlyId: "waitpoint_1" }))["x-trigger-jwt"]);
    expect(token.scopes).toEqual(["write:waitpoints:waitpoint_1"]);
    expect(token.exp! - token.iat!).toBe(86400);
  });
});

describe("scopes", () => {
  it("parses action:type[:id] with colons in the id", () => {
    expect(parseScope("admin")).toEqual({ admin: true });
    expect(parseScope("read:runs")).toEqual({ admin: false, action: "read", type: "runs", id: undefined });
    expect(parseScope("read:tags:org:42")).toEqual({ admin: false, action: "read", type: "tags", id: "org:42" });
    expect(parseScope("read")).toBeUndefined();
    expect(parseScope("read:runs:")).toBeUndefined();
  });

  it("matches ids, type-level grants and wildcards", () => {
    expect(scopeAllows(["read:runs:run_1"], { action: "read", resource: "runs", id: "run_1" })).toBe(true);
    expect(scopeAllows(["read:runs:run_1"], { action: "read", resource: "runs", id: "run_2" })).toBe(false);
    expect(scopeAllows(["read:runs:run_1"], { action: "read", resource: "runs" })).toBe(false);
    expect(scopeAllows(["read:runs"], { action: "read", resource: "runs", id: "run_2" })).toBe(true);
    expect(scopeAllows(["write:runs"], { action: "read", resource: "runs", id: "run_2" })).toBe(false);
    expect(scopeAllows(["read:all"], { action: "read", resource: "batch", id: "batch_1" })).toBe(true);
    expect(scopeAllows(["*:runs"], { action: "write", resource: "runs", id: "run_1" })).toBe(true);
    expect(scopeAllows(["admin"], { action: "trigger", resource: "tasks", id: "t" })).toBe(true);
    expect(scopeAllows([], { action: "read", resource: "runs" })).toBe(false);
    expect(scopeAllows(["garbage"], { action: "read", resource: "runs" })).toBe(false);
  });

  it("applies the per-route rules", () => {
    const run = { friendlyId: "run_1", taskIdentifier: "hello", tags: ["user:1"], batchFriendlyId: "batch_1" };
    expect(canReadRun(["read:runs:run_1"], run)).toBe(true);
    expect(canReadRun(["read:tasks:hello"], run)).toBe(true);
    expect(canReadRun(["read:tags:user:1"], run)).toBe(true);
    expect(canReadRun(["read:batch:batch_1"], run)).toBe(true);
    expect(canReadRun(["read:runs"], run)).toBe(true);
    expect(canReadRun(["read:runs:run_2", "read:tags:user:2"], run)).toBe(false);

    expect(canListRuns(["read:runs"])).toBe(true);
    expect(canListRuns(["read:tasks"])).toBe(true);
    expect(canListRuns(["read:tasks:a"])).toBe(false);
    expect(canListRuns(["read:tasks:a", "read:tasks:b"], ["a", "b"])).toBe(true);
    expect(canListRuns(["read:tasks:a"], ["a", "b"])).toBe(false);

    expect(canCancelRun(["write:tasks:hello"], run)).toBe(true);
    expect(canCancelRun(["read:runs:run_1"], run)).toBe(false);
    expect(canResetIdempotencyKey(["write:runs"])).toBe(true);
    expect(canResetIdempotencyKey(["write:runs:run_1"])).toBe(false);

    expect(canTriggerTask(["trigger:tasks:hello"], "hello")).toBe(true);
    expect(canTriggerTask(["trigger:tasks:other"], "hello")).toBe(false);
    expect(canBatchTrigger(["batchTrigger:tasks:a", "batchTrigger:tasks:b"], ["a", "b"])).toBe(true);
    expect(canBatchTrigger(["batchTrigger:tasks:a"], ["a", "b"])).toBe(false);
    expect(canBatchTrigger(["batchTrigger:tasks"], ["a", "b"])).toBe(true);
    expect(canBatchTrigger(["batchTrigger:tasks:a"], [])).toBe(false);

    expect(canReadBatch(["read:batch:batch_1"], "batch_1")).toBe(true);
    expect(canReadBatch(["read:runs"], "batch_1")).toBe(true);
    expect(canReadBatch(["read:runs:run_1"], "batch_1")).toBe(false);
    expect(canCompleteWaitpoint(["write:waitpoints:waitpoint_1"], "waitpoint_1")).toBe(true);
    expect(canCompleteWaitpoint(["write:waitpoints:waitpoint_2"], "waitpoint_1")).toBe(false);

    expect(canSubscribeToTags(["read:tags:b"], ["a", "b"])).toBe(true);
    expect(canSubscribeToTags(["read:tags"], ["a"])).toBe(true);
    expect(canSubscribeToTags(["read:tags:c", "read:runs:run_1"], ["a", "b"])).toBe(false);
  });
});
