import { signPublicToken } from "@runplane/core/auth";
import { classifyResidency } from "@runplane/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { api, countRows, MODES, runRow } from "./support/api";

/**
 * POST /api/v1/tasks/{taskId}/trigger over raw HTTP, in single and split mode: every option lands on
 * the run, idempotency (key and request header), tokens and scopes, and refusals that write nothing.
 */
describe.each(MODES)("trigger API ($mode)", ({ split }) => {
  let server: TestServer;
  let envId: string;

  beforeAll(async () => {
    server = await startTestServer({ split });
    envId = (await api(server, "POST", "/api/v1/auth/jwt/claims")).body.sub;
  }, 120_000);
  afterAll(async () => void (await server?.stop()), 60_000);

  const trigger = (taskId: string, body: unknown, options: Parameters<typeof api>[3] = {}) =>
    api(server, "POST", `/api/v1/tasks/${encodeURIComponent(taskId)}/trigger`, { body, ...options });

  test("every option the SDK sends lands on the run", async () => {
    const res = await trigger("hello", {
      payload: '{"json":{"a":1}}',
      options: {
        payloadType: "application/super+json",
        queue: { name: "q1" },
        concurrencyKey: 7,
        idempotencyKey: "a".repeat(64),
        idempotencyKeyTTL: "1h",
        idempotencyKeyOptions: { key: "k1", scope: "global" },
        delay: "1m",
        ttl: "10m",
        tags: ["x", "y"],
        maxAttempts: 3,
        metadata: { m: 1 },
        maxDuration: 60,
        machine: "small-2x",
        priority: 5,
        region: "eu",
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: expect.stringMatching(/^run_/) });
    expect(classifyResidency(res.body.id)).toBe(split ? "NEW" : "LEGACY");
    expect(res.headers.get("x-trigger-jwt")).toMatch(/^ey/);
    expect(JSON.parse(res.headers.get("x-trigger-jwt-claims")!)).toEqual({ sub: envId, pub: true });

    const row = (await runRow(server, res.body.id))!;
    expect(row).toMatchObject({
      taskIdentifier: "hello",
      status: "DELAYED",
      payload: '{"json":{"a":1}}',
      payloadType: "application/super+json",
      queue: "q1",
      concurrencyKey: "7",
      idempotencyKey: "a".repeat(64),
      ttl: "10m",
      runTags: ["x", "y"],
      maxAttempts: 3,
      metadata: '{"m":1}',
      maxDurationInSeconds: 60,
      machinePreset: "small-2x",
      priorityMs: 5000,
      annotations: { region: "eu" },
    });
    expect(row.idempotencyKeyOptions).toEqual({ key: "k1", scope: "global" });
    expect(new Date(row.delayUntil).getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(new Date(row.idempotencyKeyExpiresAt).getTime()).toBeLessThan(Date.now() + 3_700_000);

    // The retrieved run shows the user's key and the public status.
    const retrieved = await api(server, "GET", `/api/v3/runs/${res.body.id}`);
    expect(retrieved.body).toMatchObject({ status: "DELAYED", idempotencyKey: "k1", tags: ["x", "y"], metadata: { m: 1 }, region: "eu", isQueued: true });
  });

  test("the same idempotency key returns the same run with isCached; a request retry returns the first answer", async () => {
    const first = await trigger("idem", { payload: { n: 1 }, options: { idempotencyKey: "key-1" } });
    const second = await trigger("idem", { payload: { n: 2 }, options: { idempotencyKey: "key-1" } });
    expect(second.body).toEqual({ id: first.body.id, isCached: true });
    // Another task does not share the key.
    const other = await trigger("idem-other", { payload: {}, options: { idempotencyKey: "key-1" } });
    expect(other.body.id).not.toBe(first.body.id);
    // The idempotency-key header overrides the body.
    const header = await trigger("idem", { payload: {} }, { headers: { "idempotency-key": "key-1" } });
    expect(header.body).toEqual({ id: first.body.id, isCached: true });

    const before = await countRows(server, "TaskRun");
    const headers = { "x-trigger-request-idempotency-key": "3b241101-e2bb-4255-8caf-4136c566a962" };
    const a = await trigger("req-idem", { payload: {} }, { headers });
    const b = await trigger("req-idem", { payload: {} }, { headers });
    expect(a.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(await countRows(server, "TaskRun")).toBe(before + 1);
  });

  test("a child inherits its parent's id family and depth", async () => {
    const parent = await trigger("parent", { payload: {} });
    const child = await trigger("child", { payload: {}, options: { parentRunId: parent.body.id, test: true } });
    expect(child.status).toBe(200);
    expect(classifyResidency(child.body.id)).toBe(classifyResidency(parent.body.id));
    const row = (await runRow(server, child.body.id))!;
    expect(row).toMatchObject({ depth: 1, isTest: true });
    const retrieved = await api(server, "GET", `/api/v3/runs/${child.body.id}`);
    expect(retrieved.body.relatedRuns.parent.id).toBe(parent.body.id);
    expect(retrieved.body.relatedRuns.root.id).toBe(parent.body.id);
    expect((await api(server, "GET", `/api/v3/runs/${parent.body.id}`)).body.relatedRuns.children.map((c: { id: string }) => c.id)).toEqual([
      child.body.id,
    ]);
  });

  test("refusals answer 4xx with a message naming the field, and write nothing", async () => {
    const before = await countRows(server, "TaskRun");
    const cases: Array<[string, Awaited<ReturnType<typeof trigger>>, number, RegExp]> = [
      ["no key", await trigger("hello", { payload: 1 }, { key: null }), 401, /No authorization header/],
      ["bad key", await trigger("hello", { payload: 1 }, { key: "tr_dev_nope0000000000000000000" }), 401, /Invalid API key/],
      ["not JSON", await trigger("hello", undefined, { rawBody: "{oops" }), 400, /not valid JSON/],
      ["bad machine", await trigger("hello", { options: { machine: "huge" } }), 400, /options\.machine/],
      ["bad ttl", await trigger("hello", { options: { ttl: "forever" } }), 400, /options\.ttl/],
      ["bad delay", await trigger("hello", { options: { delay: "whenever" } }), 400, /options\.delay/],
      ["wrong type", await trigger("hello", { options: { maxAttempts: "three" } }), 400, /options\.maxAttempts/],
      ["long tag", await trigger("hello", { options: { tags: ["x".repeat(129)] } }), 400, /options\.tags/],
      ["11 tags", await trigger("hello", { options: { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) } }), 422, /10 tags.*11/],
      ["store without path", await trigger("hello", { options: { payloadType: "application/store" } }), 400, /payload/],
      ["foreign parent", await trigger("hello", { options: { parentRunId: "run_doesnotexist000000000000" } }), 404, /Parent run/],
      ["huge metadata", await trigger("hello", { options: { metadata: { big: "x".repeat(300_000) } } }), 413, /metadata/],
      ["bad debounce", await trigger("hello", { options: { debounce: { key: "k", delay: "soon" } } }), 422, /debounce/],
    ];
    for (const [name, res, status, message] of cases) {
      expect({ name, status: res.status }).toEqual({ name, status });
      expect(res.body.error, name).toMatch(message);
    }
    const tooLarge = await trigger("hello", undefined, { rawBody: JSON.stringify({ payload: "x".repeat(3 * 1024 * 1024 + 10) }) });
    expect(tooLarge.status).toBe(413);
    expect(await countRows(server, "TaskRun")).toBe(before);
  });

  test("public tokens: trigger:tasks:<id> allows that task only; a one-time token works once", async () => {
    const envKey = server.devSecretKey;
    const scoped = await signPublicToken({ secretKey: envKey, environmentId: envId, scopes: ["trigger:tasks:allowed"] });
    expect((await trigger("allowed", { payload: 1 }, { key: scoped })).status).toBe(200);
    const denied = await trigger("other", { payload: 1 }, { key: scoped });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: "Unauthorized", code: "unauthorized", param: "access_token", type: "authorization" });

    const once = await signPublicToken({ secretKey: envKey, environmentId: envId, scopes: ["trigger:tasks:once"], oneTimeUse: true });
    expect((await trigger("once", { payload: 1 }, { key: once })).status).toBe(200);
    const again = await trigger("once", { payload: 1 }, { key: once });
    expect(again.status).toBe(422);
    expect(again.body.error).toMatch(/one-time use token/);

    // Tokens are refused where only secret keys are accepted, and forged or expired ones everywhere.
    const reader = await signPublicToken({ secretKey: envKey, environmentId: envId, scopes: ["read:runs"] });
    expect((await api(server, "POST", "/api/v1/waitpoints/tokens", { key: reader, body: {} })).status).toBe(401);
    const forged = await signPublicToken({ secretKey: "tr_dev_notthekey000000000000", environmentId: envId, scopes: ["admin"] });
    expect((await trigger("allowed", { payload: 1 }, { key: forged })).body.error).toBe("Public Access Token is invalid");
    const expired = await signPublicToken({ secretKey: envKey, environmentId: envId, scopes: ["admin"], expirationTime: Math.floor(Date.now() / 1000) - 10 });
    expect((await trigger("allowed", { payload: 1 }, { key: expired })).status).toBe(401);
  });

  test("debounce: repeat triggers while delayed return the same run and push it back", async () => {
    const options = { debounce: { key: "user-1", delay: "30s", mode: "trailing" } };
    const first = await trigger("digest", { payload: { n: 1 }, options });
    const firstRow = (await runRow(server, first.body.id))!;
    await new Promise((r) => setTimeout(r, 50));
    const second = await trigger("digest", { payload: { n: 2 }, options });
    expect(second.body).toEqual({ id: first.body.id, isCached: true });
    const row = (await runRow(server, first.body.id))!;
    expect(new Date(row.delayUntil).getTime()).toBeGreaterThan(new Date(firstRow.delayUntil).getTime());
    expect(row.payload).toBe('{"n":2}');
  });
});
