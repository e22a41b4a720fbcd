import { TEST_REDIS_URL } from "@internal/testcontainers";
import { signPublicToken } from "@runplane/core/auth";
import { createRedisClient } from "@runplane/redis-worker/redis";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { collectShape, getShape, otherInstance, sleep, startNextRun, type OtherInstance } from "./helpers";

/**
 * The realtime feeds against a real server (default 20 s live hold), driven by raw HTTP and by the
 * real `@electric-sql/client` ShapeStream. Runs change through an engine in the test process — another
 * instance as far as the server is concerned — so live updates prove the Redis change feed.
 */
let server: TestServer;
let other: OtherInstance;

beforeAll(async () => {
  server = await startTestServer();
  other = await otherInstance(server);
}, 120_000);

afterAll(async () => {
  await other?.close();
  await server?.stop();
});

const runUrl = (id: string, query = "") => `${server.baseUrl}/realtime/v1/runs/${id}${query}`;
const tag = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}`;

describe("GET /realtime/v1/runs/:id", () => {
  test("the snapshot is the run as an insert, with the Electric headers", async () => {
    const run = await other.trigger({ tags: ["snap"], metadata: JSON.stringify({ step: 1 }) });
    const res = await getShape(runUrl(run.friendlyId, "?log=full&offset=-1"), server.devSecretKey);
    expect(res.status).toBe(200);
    expect(res.headers.get("electric-handle")).toMatch(/.+/);
    expect(res.headers.get("electric-offset")).toMatch(/^\d+_\d+$/);
    expect(res.headers.get("electric-up-to-date")).toBe("true");
    expect(JSON.parse(res.headers.get("electric-schema")!)).toMatchObject({ runTags: { type: "text", dims: 1 }, isTest: { type: "bool" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")).toContain("electric-offset");
    expect(res.body).toHaveLength(2);
    expect(res.body[0]).toMatchObject({
      key: expect.stringContaining(run.id),
      headers: { operation: "insert" },
      value: {
        id: run.id,
        friendlyId: run.friendlyId,
        taskIdentifier: "hello",
        status: "PENDING",
        runTags: '{"snap"}',
        payload: JSON.stringify({ hello: "world" }),
        metadata: JSON.stringify({ step: 1 }),
        isTest: "f",
        completedAt: null,
      },
    });
    expect(res.body[0].value.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
    expect(res.body[1]).toEqual({ headers: { control: "up-to-date" } });

    // The same shape keeps its handle.
    const again = await getShape(runUrl(run.friendlyId, "?log=full&offset=-1"), server.devSecretKey);
    expect(again.headers.get("electric-handle")).toBe(res.headers.get("electric-handle"));
  });

  test("a live request is held until another instance changes the run, then answers with the update", async () => {
    const run = await other.trigger({});
    const snap = await getShape(runUrl(run.friendlyId, "?log=full&offset=-1"), server.devSecretKey);
    const handle = snap.headers.get("electric-handle")!;
    const offset = snap.headers.get("electric-offset")!;
    const cursor = snap.headers.get("electric-cursor")!;

    const started = Date.now();
    const live = getShape(runUrl(run.friendlyId, `?cursor=${cursor}&handle=${handle}&live=true&log=full&offset=${offset}`), server.devSecretKey);
    await sleep(700);
    await other.engine.cancelRun(run.id, { reason: "test" });
    const res = await live;
    const elapsed = Date.now() - started;

    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(650);
    expect(elapsed).toBeLessThan(5000); // woken by pub/sub, far from the 20 s hold
    expect(res.headers.get("electric-handle")).toBe(handle);
    expect(res.headers.get("electric-cursor")).toMatch(/^\d+$/);
    expect(res.headers.get("electric-cursor")).not.toBe(cursor);
    expect(res.headers.get("electric-offset")).not.toBe(offset);
    expect(res.body).toHaveLength(2);
    expect(res.body[0]).toMatchObject({ headers: { operation: "update" }, value: { id: run.id, status: "CANCELED" } });
    expect(res.body[0].value.completedAt).toMatch(/^\d{4}-/);
    expect(JSON.parse(res.body[0].value.error)).toMatchObject({ type: expect.any(String) });
    expect(res.body[1]).toEqual({ headers: { control: "up-to-date" } });

    // Caught up: a non-live request at the new offset has nothing new.
    const caughtUp = await getShape(runUrl(run.friendlyId, `?handle=${handle}&log=full&offset=${res.headers.get("electric-offset")}`), server.devSecretKey);
    expect(caughtUp.body).toEqual([{ headers: { control: "up-to-date" } }]);
  });

  test("a held request is not woken by changes of other runs", async () => {
    const run = await other.trigger({});
    const unrelated = await other.trigger({});
    const snap = await getShape(runUrl(run.friendlyId, "?offset=-1"), server.devSecretKey);
    const handle = snap.headers.get("electric-handle")!;
    const controller = new AbortController();
    let settled = false;
    const live = getShape(
      runUrl(run.friendlyId, `?handle=${handle}&live=true&offset=${snap.headers.get("electric-offset")}`),
      server.devSecretKey,
      controller.signal
    ).finally(() => (settled = true));
    await sleep(300);
    await other.engine.cancelRun(unrelated.id);
    await sleep(1500);
    expect(settled).toBe(false);
    await other.engine.cancelRun(run.id);
    const res = await live;
    expect(res.body[0]).toMatchObject({ value: { id: run.id, status: "CANCELED" } });
  });

  test("a client that goes away ends its held request: the server stops listening to the environment", async () => {
    const { env, secretKey } = await other.newEnvironment();
    const run = await other.trigger({}, env);
    const snap = await getShape(runUrl(run.friendlyId, "?offset=-1"), secretKey);
    const channel = other.changeLog.channel(env.id);
    const admin = createRedisClient(TEST_REDIS_URL);
    const listeners = async () => Number(((await admin.pubsub("NUMSUB", channel)) as [string, number])[1]);
    try {
      const controller = new AbortController();
      const live = getShape(
        runUrl(run.friendlyId, `?handle=${snap.headers.get("electric-handle")}&live=true&offset=${snap.headers.get("electric-offset")}`),
        secretKey,
        controller.signal
      ).catch((error: unknown) => error);
      await vi.waitFor(async () => expect(await listeners()).toBe(1), { timeout: 5_000 });
      controller.abort();
      await live;
      // Released after the router's linger (5 s), long before the 20 s hold would have ended.
      await vi.waitFor(async () => expect(await listeners()).toBe(0), { timeout: 9_000, interval: 250 });
    } finally {
      admin.disconnect();
    }
  }, 20_000);

  test("ShapeStream follows a run through reschedule, execution, metadata and completion", async () => {
    // Its own environment, so the run is the only one to dequeue.
    const { env, secretKey } = await other.newEnvironment();
    const run = await other.trigger({ delayUntil: new Date(Date.now() + 3_600_000) }, env);
    const shape = collectShape(runUrl(run.friendlyId), secretKey);
    try {
      await vi.waitFor(() => expect(shape.rows.get(`"public"."TaskRun"/"${run.id}"`)).toMatchObject({ status: "DELAYED" }), { timeout: 10_000 });
      const key = `"public"."TaskRun"/"${run.id}"`;
      expect(shape.changes[0]).toMatchObject({ operation: "insert" });

      // Reschedule only writes an execution snapshot event: the publisher finds the run's environment.
      const later = new Date(Date.now() + 7_200_000);
      await other.engine.rescheduleRun(run.id, later);
      await vi.waitFor(() => expect(shape.rows.get(key)?.delayUntil).toBe(later.toISOString().slice(0, -1)), { timeout: 5_000 });

      // Due now: the delay job (run by either instance's engine worker) queues it.
      await other.engine.rescheduleRun(run.id, new Date(Date.now() + 200));
      await vi.waitFor(() => expect(shape.rows.get(key)).toMatchObject({ status: "PENDING" }), { timeout: 10_000 });

      const { snapshotId } = await startNextRun(other, env);
      await vi.waitFor(() => expect(shape.rows.get(key)).toMatchObject({ status: "EXECUTING" }), { timeout: 5_000 });
      expect(shape.rows.get(key)?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+$/);

      await other.engine.updateMetadata(run.id, { metadata: JSON.stringify({ progress: 0.5 }) });
      await vi.waitFor(() => expect(shape.rows.get(key)).toMatchObject({ metadata: JSON.stringify({ progress: 0.5 }) }), { timeout: 5_000 });

      await other.engine.completeRunAttempt(run.id, snapshotId, { ok: true, output: JSON.stringify({ done: true }) });
      await vi.waitFor(
        () => expect(shape.rows.get(key)).toMatchObject({ status: "COMPLETED_SUCCESSFULLY", output: JSON.stringify({ done: true }) }),
        { timeout: 5_000 }
      );
      expect(shape.rows.get(key)?.completedAt).toMatch(/^\d{4}-/);
      expect(shape.errors).toEqual([]);
      // Every delivered change carried something new: no row was sent twice unchanged.
      const seen = shape.changes.map((c) => JSON.stringify(c.value));
      expect(new Set(seen).size).toBe(seen.length);
    } finally {
      shape.stop();
    }
  }, 60_000);

  test("two changes stamped with the same updatedAt are both delivered (offsets are change-log positions)", async () => {
    const t = tag("same-ms");
    const run = await other.trigger({ tags: [t] });
    const key = `"public"."TaskRun"/"${run.id}"`;
    const runFeed = collectShape(runUrl(run.friendlyId), server.devSecretKey);
    const tagFeed = collectShape(`${server.baseUrl}/realtime/v1/runs?tags=${t}`, server.devSecretKey);
    try {
      for (const feed of [runFeed, tagFeed]) await vi.waitFor(() => expect(feed.rows.has(key)).toBe(true), { timeout: 10_000 });
      const stamp = new Date();
      for (const step of [1, 2]) {
        await other.store.updateRun(run.id, { metadata: JSON.stringify({ step }), updatedAt: stamp });
        other.publisher.runChanged(other.env.id, run.id); // what any writer outside the engine calls
        for (const feed of [runFeed, tagFeed]) {
          await vi.waitFor(() => expect(feed.rows.get(key)).toMatchObject({ metadata: JSON.stringify({ step }) }), { timeout: 5_000 });
        }
      }
      expect(runFeed.rows.get(key)?.updatedAt).toBe(stamp.toISOString().slice(0, -1));
    } finally {
      runFeed.stop();
      tagFeed.stop();
    }
  }, 30_000);

  test("skipColumns (query and token claim) leave columns out, never the required ones", async () => {
    const run = await other.trigger({});
    const res = await getShape(runUrl(run.friendlyId, "?offset=-1&skipColumns=payload,updatedAt,status"), server.devSecretKey);
    expect(res.body[0].value).not.toHaveProperty("payload");
    expect(res.body[0].value).toHaveProperty("updatedAt");
    expect(res.body[0].value).toHaveProperty("status");
    expect(JSON.parse(res.headers.get("electric-schema")!)).not.toHaveProperty("payload");

    const token = await signPublicToken({
      secretKey: server.devSecretKey,
      environmentId: other.env.id,
      scopes: ["read:runs"],
      realtime: { skipColumns: ["output", "metadata"] },
    });
    const viaToken = await getShape(runUrl(run.friendlyId, "?offset=-1&skipColumns=payload"), token);
    expect(viaToken.status).toBe(200);
    expect(Object.keys(viaToken.body[0].value)).not.toEqual(expect.arrayContaining(["payload"]));
    expect(viaToken.body[0].value).not.toHaveProperty("output");
    expect(viaToken.body[0].value).not.toHaveProperty("metadata");
  });

  test("errors: 401 without a key, 404 for unknown or another environment's run, 400 bad query, 409 unknown handle", async () => {
    const run = await other.trigger({});
    expect((await fetch(runUrl(run.friendlyId, "?offset=-1"))).status).toBe(401);
    expect((await getShape(runUrl("run_doesnotexist", "?offset=-1"), server.devSecretKey)).status).toBe(404);
    const foreign = await getShape(runUrl(run.friendlyId, "?offset=-1"), server.prodSecretKey);
    expect(foreign.status).toBe(404);
    expect(foreign.headers.get("access-control-allow-origin")).toBe("*");
    expect((await getShape(runUrl(run.friendlyId, "?offset=banana"), server.devSecretKey)).status).toBe(400);
    expect((await getShape(runUrl(run.friendlyId, "?offset=-1&live=true"), server.devSecretKey)).status).toBe(400);

    const snap = await getShape(runUrl(run.friendlyId, "?offset=-1"), server.devSecretKey);
    const stale = await getShape(runUrl(run.friendlyId, `?handle=gone-0&offset=${snap.headers.get("electric-offset")}&live=true`), server.devSecretKey);
    expect(stale.status).toBe(409);
    expect(stale.headers.get("electric-handle")).toBe(snap.headers.get("electric-handle"));
    expect(stale.body).toEqual([{ headers: { control: "must-refetch" } }]);

    const preflight = await fetch(runUrl(run.friendlyId), { method: "OPTIONS" });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    expect((await fetch(runUrl(run.friendlyId), { method: "POST", headers: { Authorization: `Bearer ${server.devSecretKey}` } })).status).toBe(405);
  });

  test("public tokens: any read scope covering the run is enough; others are refused", async () => {
    const batch = await other.engine.createBatch({ environment: other.env, runCount: 1 });
    const run = await other.trigger({ tags: ["tok-a"], batch: { id: batch.batch.friendlyId, index: 0 } });
    const sign = (scopes: string[], expirationTime?: string | number) =>
      signPublicToken({ secretKey: server.devSecretKey, environmentId: other.env.id, scopes, expirationTime });
    const statusWith = async (scopes: string[]) => (await getShape(runUrl(run.friendlyId, "?offset=-1"), await sign(scopes))).status;

    for (const scopes of [["read:runs"], [`read:runs:${run.friendlyId}`], ["read:tasks:hello"], ["read:tags:tok-a"], [`read:batch:${batch.batch.friendlyId}`], ["read:all"], ["admin"]]) {
      expect(await statusWith(scopes), scopes.join()).toBe(200);
    }
    for (const scopes of [[], ["read:runs:run_other"], ["read:tasks:other"], ["read:tags:tok-b"], ["write:runs"], ["trigger:tasks:hello"]]) {
      expect(await statusWith(scopes), scopes.join()).toBe(403);
    }
    // Expired, or signed with another environment's key.
    expect((await getShape(runUrl(run.friendlyId, "?offset=-1"), await sign(["read:runs"], Math.floor(Date.now() / 1000) - 60))).status).toBe(401);
    const wrongKey = await signPublicToken({ secretKey: server.prodSecretKey, environmentId: other.env.id, scopes: ["read:runs"] });
    expect((await getShape(runUrl(run.friendlyId, "?offset=-1"), wrongKey)).status).toBe(401);
    // A token of the production environment does not see the development run.
    const prodToken = await signPublicToken({ secretKey: server.prodSecretKey, environmentId: other.prodEnv.id, scopes: ["read:runs"] });
    expect((await getShape(runUrl(run.friendlyId, "?offset=-1"), prodToken)).status).toBe(404);
  });
});

describe("GET /realtime/v1/runs?tags=", () => {
  test("snapshot of the environment's runs with every tag; new runs arrive live as inserts, changes as updates", async () => {
    const [t1, t2] = [tag("a"), tag("b")];
    const both = await other.trigger({ tags: [t1, t2] });
    const onlyT1 = await other.trigger({ tags: [t1] });
    await other.trigger({ tags: [t2] });
    await other.trigger({ tags: [t1, t2] }, other.prodEnv); // another environment
    await other.trigger({ tags: [t1, t2], createdAt: new Date(Date.now() - 2 * 86_400_000) }); // outside 24h

    const shape = collectShape(`${server.baseUrl}/realtime/v1/runs?tags=${t1},${t2}`, server.devSecretKey);
    try {
      await vi.waitFor(() => expect(shape.batches.length).toBeGreaterThan(0), { timeout: 10_000 });
      expect([...shape.rows.values()].map((r) => r.id)).toEqual([both.id]);

      const fresh = await other.trigger({ tags: [t2, t1] });
      await vi.waitFor(() => expect(shape.rows.has(`"public"."TaskRun"/"${fresh.id}"`)).toBe(true), { timeout: 5_000 });
      expect(shape.changes.find((c) => c.value.id === fresh.id)?.operation).toBe("insert");

      await other.engine.cancelRun(both.id);
      await vi.waitFor(() => expect(shape.rows.get(`"public"."TaskRun"/"${both.id}"`)).toMatchObject({ status: "CANCELED" }), { timeout: 5_000 });
      expect(shape.changes.filter((c) => c.value.id === both.id).map((c) => c.operation)).toEqual(["insert", "update"]);

      await other.engine.cancelRun(onlyT1.id);
      await sleep(500);
      expect([...shape.rows.values()].map((r) => r.id).sort()).toEqual([both.id, fresh.id].sort());
      expect(shape.errors).toEqual([]);
    } finally {
      shape.stop();
    }
  }, 30_000);

  test("createdAt widens the window; tags are required; token scopes are checked", async () => {
    const t = tag("old");
    const old = await other.trigger({ tags: [t], createdAt: new Date(Date.now() - 2 * 86_400_000) });
    const url = (q: string) => `${server.baseUrl}/realtime/v1/runs?${q}&offset=-1`;
    expect((await getShape(url(`tags=${t}`), server.devSecretKey)).body).toEqual([{ headers: { control: "up-to-date" } }]);
    const week = await getShape(url(`tags=${t}&createdAt=7d`), server.devSecretKey);
    expect(week.body.map((m: any) => m.value?.id).filter(Boolean)).toEqual([old.id]);
    expect((await getShape(url(`tags=${t}&createdAt=soon`), server.devSecretKey)).status).toBe(400);
    expect((await getShape(url("createdAt=1h"), server.devSecretKey)).status).toBe(400);

    const sign = (scopes: string[]) => signPublicToken({ secretKey: server.devSecretKey, environmentId: other.env.id, scopes });
    expect((await getShape(url(`tags=${t}`), await sign([`read:tags:${t}`]))).status).toBe(200);
    expect((await getShape(url(`tags=${t}`), await sign(["read:tags"]))).status).toBe(200);
    expect((await getShape(url(`tags=${t}`), await sign(["read:runs"]))).status).toBe(200);
    expect((await getShape(url(`tags=${t}`), await sign(["read:tags:nope"]))).status).toBe(403);
    expect((await getShape(url(`tags=${t}`), await sign([`read:runs:${old.friendlyId}`]))).status).toBe(403);
    // The production environment's feed does not see development runs.
    expect((await getShape(url(`tags=${t}&createdAt=7d`), server.prodSecretKey)).body).toEqual([{ headers: { control: "up-to-date" } }]);
  });
});

describe("GET /realtime/v1/batches/:id", () => {
  test("the batch's runs: snapshot, runs added later arrive as inserts, changes as updates", async () => {
    const { batch } = await other.engine.createBatch({ environment: other.env, runCount: 2 });
    const first = await other.trigger({ batch: { id: batch.friendlyId, index: 0 } });
    await other.trigger({}); // not in the batch

    const shape = collectShape(`${server.baseUrl}/realtime/v1/batches/${batch.friendlyId}`, server.devSecretKey);
    try {
      await vi.waitFor(() => expect([...shape.rows.values()].map((r) => r.id)).toEqual([first.id]), { timeout: 10_000 });
      const second = await other.trigger({ batch: { id: batch.friendlyId, index: 1 } });
      await vi.waitFor(() => expect(shape.rows.size).toBe(2), { timeout: 5_000 });
      expect(shape.changes.find((c) => c.value.id === second.id)?.operation).toBe("insert");
      await other.engine.cancelRun(first.id);
      await vi.waitFor(() => expect(shape.rows.get(`"public"."TaskRun"/"${first.id}"`)).toMatchObject({ status: "CANCELED" }), { timeout: 5_000 });
      expect(shape.errors).toEqual([]);
    } finally {
      shape.stop();
    }
  }, 30_000);

  test("404 for unknown or another environment's batch; read:batch scope checked", async () => {
    const { batch } = await other.engine.createBatch({ environment: other.env, runCount: 1 });
    const url = (id: string) => `${server.baseUrl}/realtime/v1/batches/${id}?offset=-1`;
    expect((await getShape(url(batch.friendlyId), server.devSecretKey)).status).toBe(200);
    expect((await getShape(url(batch.friendlyId), server.prodSecretKey)).status).toBe(404);
    expect((await getShape(url("batch_nope"), server.devSecretKey)).status).toBe(404);
    const sign = (scopes: string[]) => signPublicToken({ secretKey: server.devSecretKey, environmentId: other.env.id, scopes });
    expect((await getShape(url(batch.friendlyId), await sign([`read:batch:${batch.friendlyId}`]))).status).toBe(200);
    expect((await getShape(url(batch.friendlyId), await sign(["read:runs"]))).status).toBe(200);
    expect((await getShape(url(batch.friendlyId), await sign(["read:batch:batch_other"]))).status).toBe(403);
    expect((await getShape(url(batch.friendlyId), await sign(["read:tasks:hello"]))).status).toBe(403);
  });
});
