import { signPublicToken } from "@runplane/core/auth";
import { classifyResidency } from "@runplane/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { api, countRows, MODES, runRow, waitFor } from "./support/api";

function ndjson(items: unknown[]): string {
  return items.map((item) => JSON.stringify(item)).join("\n") + "\n";
}

/** Two-phase batches and wait tokens over raw HTTP, in single and split mode. */
describe.each(MODES)("batches and wait tokens API ($mode)", ({ split }) => {
  let server: TestServer;
  let envId: string;

  beforeAll(async () => {
    server = await startTestServer({ split });
    envId = (await api(server, "POST", "/api/v1/auth/jwt/claims")).body.sub;
  }, 120_000);
  afterAll(async () => void (await server?.stop()), 60_000);

  const streamItems = (batchId: string, body: string, contentType = "application/x-ndjson", key?: string) =>
    api(server, "POST", `/api/v3/batches/${batchId}/items`, { rawBody: body, headers: { "content-type": contentType }, key });

  test("create, stream (deduplicated by index, resumable), seal, retrieve in index order", async () => {
    const created = await api(server, "POST", "/api/v3/batches", { body: { runCount: 3, taskIdentifiers: ["a", "b"] } });
    expect(created.status).toBe(202);
    expect(created.body).toEqual({ id: expect.stringMatching(/^batch_/), runCount: 3, isCached: false });
    expect(classifyResidency(created.body.id)).toBe(split ? "NEW" : "LEGACY");
    expect(created.headers.get("x-trigger-jwt")).toMatch(/^ey/);
    const batchId = created.body.id;

    // Items may arrive out of order; the first stream is missing index 1.
    const partial = await streamItems(
      batchId,
      ndjson([
        { index: 2, task: "b", payload: "two", options: { payloadType: "text/plain", tags: "second" } },
        { index: 0, task: "a", payload: '{"json":0}', options: { payloadType: "application/super+json" } },
      ])
    );
    expect(partial.status).toBe(200);
    expect(partial.body).toEqual({ id: batchId, itemsAccepted: 2, itemsDeduplicated: 0, sealed: false, enqueuedCount: 2, expectedCount: 3 });
    const pending = await api(server, "GET", `/api/v2/batches/${batchId}`);
    expect(pending.body).toMatchObject({ status: "PENDING", runCount: 3, processing: { errors: [] } });
    expect(pending.body.runs).toHaveLength(2);

    // The client resends the whole stream: 0 and 2 are deduplicated, 1 is added, the batch seals.
    const full = await streamItems(
      batchId,
      ndjson([
        { index: 0, task: "a", payload: '{"json":0}', options: { payloadType: "application/super+json" } },
        { index: 1, task: "a", payload: '{"json":1}', options: { payloadType: "application/super+json", idempotencyKey: "item-key" } },
        { index: 2, task: "b", payload: "two", options: { payloadType: "text/plain", tags: "second" } },
      ])
    );
    expect(full.body).toEqual({ id: batchId, itemsAccepted: 1, itemsDeduplicated: 2, sealed: true });
    const again = await streamItems(batchId, ndjson([{ index: 0, task: "a" }]));
    expect(again.body).toEqual({ id: batchId, itemsAccepted: 0, itemsDeduplicated: 0, sealed: true });

    const batch = await api(server, "GET", `/api/v2/batches/${batchId}`);
    expect(batch.body).toMatchObject({ id: batchId, status: "PROCESSING", runCount: 3 });
    expect(batch.body.runs).toHaveLength(3);
    const rows = await Promise.all(batch.body.runs.map((id: string) => runRow(server, id)));
    expect(rows.map((r) => r!.payload)).toEqual(['{"json":0}', '{"json":1}', "two"]);
    expect(rows.map((r) => r!.taskIdentifier)).toEqual(["a", "a", "b"]);
    expect(rows[2]!.runTags).toEqual(["second"]);
    expect(await countRows(server, "TaskRun")).toBeGreaterThanOrEqual(3);

    // Retrieve shows the batch link and the trigger function.
    const run = await api(server, "GET", `/api/v3/runs/${batch.body.runs[0]}`);
    expect(run.body).toMatchObject({ batchId, triggerFunction: "batchTrigger" });
    // read:batch:<id> reads the batch and its runs; other ids are refused.
    const reader = await signPublicToken({ secretKey: server.devSecretKey, environmentId: envId, scopes: [`read:batch:${batchId}`] });
    expect((await api(server, "GET", `/api/v2/batches/${batchId}`, { key: reader })).status).toBe(200);
    expect((await api(server, "GET", `/api/v3/runs/${batch.body.runs[1]}`, { key: reader })).status).toBe(200);
    const other = await signPublicToken({ secretKey: server.devSecretKey, environmentId: envId, scopes: ["read:batch:batch_other"] });
    expect((await api(server, "GET", `/api/v2/batches/${batchId}`, { key: other })).status).toBe(403);
    // Other environments do not see it.
    expect((await api(server, "GET", `/api/v2/batches/${batchId}`, { key: server.prodSecretKey })).status).toBe(404);
  });

  test("items that cannot trigger become pre-failed runs and processing errors; the batch completes PARTIAL_FAILED", async () => {
    const created = await api(server, "POST", "/api/v3/batches", { body: { runCount: 2 } });
    const res = await streamItems(
      created.body.id,
      ndjson([
        { index: 0, task: "ok", payload: "x", options: { payloadType: "text/plain", delay: "1h" } },
        { index: 1, task: "bad", payload: "y", options: { payloadType: "text/plain", tags: Array.from({ length: 11 }, (_, i) => `t${i}`) } },
      ])
    );
    expect(res.body.sealed).toBe(true);
    const batch = await api(server, "GET", `/api/v2/batches/${created.body.id}`);
    expect(batch.body.processing.errors).toEqual([
      { index: 1, taskIdentifier: "bad", error: expect.stringMatching(/10 tags/), errorCode: "BATCH_ITEM_COULD_NOT_TRIGGER" },
    ]);
    const failed = await api(server, "GET", `/api/v3/runs/${batch.body.runs[1]}`);
    expect(failed.body).toMatchObject({ status: "SYSTEM_FAILURE", isFailed: true, batchId: created.body.id });
    await api(server, "POST", `/api/v2/runs/${batch.body.runs[0]}/cancel`);
    const done = await waitFor(async () => {
      const b = await api(server, "GET", `/api/v2/batches/${created.body.id}`);
      return b.body.status === "PARTIAL_FAILED" ? b.body : null;
    }, 10_000, "batch completion");
    expect(done.processing.completedAt).toEqual(expect.any(String));
    const results = await api(server, "GET", `/api/v1/batches/${created.body.id}/results`);
    expect(results.body.items.map((i: { ok: boolean }) => i.ok)).toEqual([false, false]);
  });

  test("batch refusals write nothing", async () => {
    const before = { runs: await countRows(server, "TaskRun"), batches: await countRows(server, "BatchTaskRun") };
    const tooBig = await api(server, "POST", "/api/v3/batches", { body: { runCount: 1001 } });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error).toMatch(/exceeds maximum allowed of 1000/);
    expect((await api(server, "POST", "/api/v3/batches", { body: { runCount: 0 } })).status).toBe(400);
    expect((await api(server, "POST", "/api/v3/batches", { body: { runCount: "two" } })).body.error).toMatch(/runCount/);
    expect(await countRows(server, "BatchTaskRun")).toBe(before.batches);

    const created = await api(server, "POST", "/api/v3/batches", { body: { runCount: 2, taskIdentifiers: ["a"] } });
    expect((await streamItems(created.body.id, ndjson([{ index: 0, task: "a" }]), "application/json")).status).toBe(415);
    const badLine = await streamItems(created.body.id, '{"index":0,"task":"a"}\n{nope}\n');
    expect(badLine.status).toBe(400);
    expect(badLine.body.error).toMatch(/line 2/);
    const missingTask = await streamItems(created.body.id, ndjson([{ index: 1 }]));
    expect(missingTask.body.error).toMatch(/task/);
    const outOfRange = await streamItems(created.body.id, ndjson([{ index: 7, task: "a" }]));
    expect(outOfRange.status).toBe(400);
    expect((await streamItems("batch_doesnotexist00000000000", ndjson([{ index: 0, task: "a" }]))).status).toBe(404);
    // Only the valid first line of the bad stream was taken.
    expect(await countRows(server, "TaskRun")).toBe(before.runs + 1);

    // Tokens: batchTrigger:tasks:<id> must cover every task in the stream.
    const scoped = await signPublicToken({ secretKey: server.devSecretKey, environmentId: envId, scopes: ["batchTrigger:tasks:a"] });
    expect((await api(server, "POST", "/api/v3/batches", { body: { runCount: 1, taskIdentifiers: ["a", "b"] }, key: scoped })).status).toBe(403);
    const mine = await api(server, "POST", "/api/v3/batches", { body: { runCount: 1, taskIdentifiers: ["a"] }, key: scoped });
    expect(mine.status).toBe(202);
    expect((await streamItems(mine.body.id, ndjson([{ index: 0, task: "b" }]), undefined, scoped)).status).toBe(403);
    expect((await streamItems(mine.body.id, ndjson([{ index: 0, task: "a" }]), undefined, scoped)).body.sealed).toBe(true);
  });

  test("a keyed batch is created once", async () => {
    const body = { runCount: 1, idempotencyKey: "d".repeat(64), idempotencyKeyOptions: { key: "nightly", scope: "global" } };
    const first = await api(server, "POST", "/api/v3/batches", { body });
    const second = await api(server, "POST", "/api/v3/batches", { body });
    expect(second.body).toEqual({ id: first.body.id, runCount: 1, isCached: true, idempotencyKey: "nightly" });
  });

  test("wait tokens: create (idempotent), list with filters, retrieve, complete by API and by callback URL, timeout", async () => {
    const created = await api(server, "POST", "/api/v1/waitpoints/tokens", { body: { tags: ["approval"], timeout: "1h", idempotencyKey: "tok-1" } });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ id: expect.stringMatching(/^waitpoint_/), isCached: false, url: expect.stringContaining("/callback/") });
    expect(created.headers.get("x-trigger-jwt")).toMatch(/^ey/);
    const cached = await api(server, "POST", "/api/v1/waitpoints/tokens", { body: { idempotencyKey: "tok-1" } });
    expect(cached.body).toMatchObject({ id: created.body.id, isCached: true });

    const plain = await api(server, "POST", "/api/v1/waitpoints/tokens", { body: {} });
    const viaUrl = await api(server, "POST", "/api/v1/waitpoints/tokens", { body: { tags: "hook" } });
    const timingOut = await api(server, "POST", "/api/v1/waitpoints/tokens", { body: { timeout: "1s" } });

    const token = await api(server, "GET", `/api/v1/waitpoints/tokens/${created.body.id}`);
    expect(token.body).toMatchObject({ id: created.body.id, status: "WAITING", tags: ["approval"], idempotencyKey: "tok-1", url: created.body.url });
    expect(token.body).not.toHaveProperty("output");
    expect(new Date(token.body.timeoutAt).getTime()).toBeGreaterThan(Date.now() + 3_000_000);

    // Complete with the API (a token scoped to it suffices), then again (no-op).
    const completer = await signPublicToken({ secretKey: server.devSecretKey, environmentId: envId, scopes: [`write:waitpoints:${created.body.id}`] });
    expect((await api(server, "POST", `/api/v1/waitpoints/tokens/${plain.body.id}/complete`, { key: completer, body: { data: 1 } })).status).toBe(403);
    const done = await api(server, "POST", `/api/v1/waitpoints/tokens/${created.body.id}/complete`, { key: completer, body: { data: { approved: true } } });
    expect(done.body).toEqual({ success: true });
    expect((await api(server, "POST", `/api/v1/waitpoints/tokens/${created.body.id}/complete`, { body: { data: "late" } })).body).toEqual({ success: true });
    const completed = await api(server, "GET", `/api/v1/waitpoints/tokens/${created.body.id}`);
    expect(completed.body).toMatchObject({ status: "COMPLETED", output: '{"approved":true}', outputType: "application/json", outputIsError: false });

    // The callback URL needs no key; a wrong hash is 401, an unknown token 404.
    const hookUrl = new URL(viaUrl.body.url);
    const wrong = await fetch(`${server.baseUrl}${hookUrl.pathname.replace(/[0-9a-f]{64}$/, "0".repeat(64))}`, { method: "POST", body: "{}" });
    expect(wrong.status).toBe(401);
    const hook = await fetch(`${server.baseUrl}${hookUrl.pathname}`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"from":"hook"}' });
    expect(hook.status).toBe(200);
    expect((await api(server, "GET", `/api/v1/waitpoints/tokens/${viaUrl.body.id}`)).body).toMatchObject({ status: "COMPLETED", output: '{"from":"hook"}' });

    const timedOut = await waitFor(async () => {
      const t = await api(server, "GET", `/api/v1/waitpoints/tokens/${timingOut.body.id}`);
      return t.body.status === "TIMED_OUT" ? t.body : null;
    }, 10_000, "token timeout");
    expect(timedOut.outputIsError).toBe(true);
    expect(JSON.parse(timedOut.output)).toMatchObject({ code: "TRIGGER_WAITPOINT_TIMEOUT" });

    const waiting = await api(server, "GET", "/api/v1/waitpoints/tokens?filter[status]=WAITING");
    expect(waiting.body.data.map((t: { id: string }) => t.id)).toEqual([plain.body.id]);
    const byTag = await api(server, "GET", "/api/v1/waitpoints/tokens?filter[tags]=approval");
    expect(byTag.body.data.map((t: { id: string }) => t.id)).toEqual([created.body.id]);
    const byKey = await api(server, "GET", "/api/v1/waitpoints/tokens?filter[idempotencyKey]=tok-1");
    expect(byKey.body.data).toHaveLength(1);
    const page = await api(server, "GET", "/api/v1/waitpoints/tokens?page[size]=2");
    expect(page.body.data).toHaveLength(2);
    const next = await api(server, "GET", `/api/v1/waitpoints/tokens?page[size]=2&page[after]=${page.body.pagination.next}`);
    expect(next.body.data).toHaveLength(2);
    expect(next.body.pagination.next).toBeUndefined();

    const before = await countRows(server, "Waitpoint");
    const tooManyTags = await api(server, "POST", "/api/v1/waitpoints/tokens", { body: { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) } });
    expect(tooManyTags.status).toBe(422);
    expect((await api(server, "POST", "/api/v1/waitpoints/tokens", { body: { timeout: "whenever" } })).status).toBe(400);
    expect((await api(server, "GET", "/api/v1/waitpoints/tokens?filter[status]=NOPE")).status).toBe(400);
    expect((await api(server, "GET", `/api/v1/waitpoints/tokens/${plain.body.id}`, { key: server.prodSecretKey })).status).toBe(404);
    expect(await countRows(server, "Waitpoint")).toBe(before);
  });
});
