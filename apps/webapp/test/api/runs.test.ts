import { signPublicToken } from "@runplane/core/auth";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { api, countRows, MODES, runRow } from "./support/api";

/** The run endpoints over raw HTTP, in single and split mode (no worker: runs stay queued or delayed). */
describe.each(MODES)("runs API ($mode)", ({ split }) => {
  let server: TestServer;
  let envId: string;

  beforeAll(async () => {
    server = await startTestServer({ split });
    envId = (await api(server, "POST", "/api/v1/auth/jwt/claims")).body.sub;
  }, 120_000);
  afterAll(async () => void (await server?.stop()), 60_000);

  async function trigger(taskId: string, options: Record<string, unknown> = {}, key = server.devSecretKey): Promise<string> {
    const res = await api(server, "POST", `/api/v1/tasks/${taskId}/trigger`, { body: { payload: { task: taskId }, options }, key });
    expect(res.status).toBe(200);
    return res.body.id;
  }

  test("retrieve: the run object, 404 for unknown and other-environment runs, token scopes", async () => {
    const id = await trigger("retrieve-me", { tags: ["b", "a"] });
    const res = await api(server, "GET", `/api/v3/runs/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id,
      status: "QUEUED",
      taskIdentifier: "retrieve-me",
      payload: { task: "retrieve-me" },
      tags: ["a", "b"],
      isQueued: true,
      isCompleted: false,
      attemptCount: 0,
      depth: 0,
      triggerFunction: "trigger",
      relatedRuns: {},
      costInCents: 0,
      durationMs: 0,
      ttl: "10m",
    });
    expect(res.body).not.toHaveProperty("output");
    expect(res.body).not.toHaveProperty("idempotencyKey");

    expect((await api(server, "GET", "/api/v3/runs/run_doesnotexist00000000000")).status).toBe(404);
    const foreign = await api(server, "GET", `/api/v3/runs/${id}`, { key: server.prodSecretKey });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toBe("Run not found");
    // Every write route treats the foreign run the same way.
    expect((await api(server, "POST", `/api/v2/runs/${id}/cancel`, { key: server.prodSecretKey })).status).toBe(404);
    expect((await api(server, "POST", `/api/v1/runs/${id}/tags`, { key: server.prodSecretKey, body: { tags: ["x"] } })).status).toBe(404);

    const token = (scopes: string[]) => signPublicToken({ secretKey: server.devSecretKey, environmentId: envId, scopes });
    for (const scopes of [[`read:runs:${id}`], ["read:tasks:retrieve-me"], ["read:tags:a"], ["read:runs"], ["admin"]]) {
      expect((await api(server, "GET", `/api/v3/runs/${id}`, { key: await token(scopes) })).status, scopes.join()).toBe(200);
    }
    for (const scopes of [["read:runs:run_other"], ["read:tasks:other"], ["write:runs"], []]) {
      expect((await api(server, "GET", `/api/v3/runs/${id}`, { key: await token(scopes) })).status, scopes.join()).toBe(403);
    }
  });

  test("list: filters and cursor pages both ways", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await trigger("listed", { tags: [i % 2 === 0 ? "even" : "odd"], machine: i === 0 ? "large-1x" : undefined }));
    await trigger("listed-other");
    const delayed = await trigger("listed", { delay: "1h" });

    const page1 = await api(server, "GET", "/api/v1/runs?filter[taskIdentifier]=listed&page[size]=2");
    expect(page1.status).toBe(200);
    expect(page1.body.data.map((r: { id: string }) => r.id)).toEqual([delayed, ids[4]]);
    expect(page1.body.data[0]).toMatchObject({ env: { id: envId, name: "dev" }, status: "DELAYED" });
    expect(page1.body.pagination.previous).toBeUndefined();
    const page2 = await api(server, "GET", `/api/v1/runs?filter[taskIdentifier]=listed&page[size]=2&page[after]=${page1.body.pagination.next}`);
    expect(page2.body.data.map((r: { id: string }) => r.id)).toEqual([ids[3], ids[2]]);
    const page3 = await api(server, "GET", `/api/v1/runs?filter[taskIdentifier]=listed&page[size]=2&page[after]=${page2.body.pagination.next}`);
    expect(page3.body.data.map((r: { id: string }) => r.id)).toEqual([ids[1], ids[0]]);
    expect(page3.body.pagination.next).toBeUndefined();
    const back = await api(server, "GET", `/api/v1/runs?filter[taskIdentifier]=listed&page[size]=2&page[before]=${page3.body.pagination.previous}`);
    expect(back.body.data.map((r: { id: string }) => r.id)).toEqual([ids[3], ids[2]]);

    const even = await api(server, "GET", "/api/v1/runs?filter[tag]=even&filter[taskIdentifier]=listed");
    expect(even.body.data).toHaveLength(3);
    const delayedOnly = await api(server, "GET", "/api/v1/runs?filter[status]=DELAYED");
    expect(delayedOnly.body.data.map((r: { id: string }) => r.id)).toEqual([delayed]);
    const machine = await api(server, "GET", "/api/v1/runs?filter[machine]=large-1x");
    expect(machine.body.data.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
    const recent = await api(server, "GET", `/api/v1/runs?filter[taskIdentifier]=listed&filter[createdAt][period]=1h&filter[isTest]=false`);
    expect(recent.body.data).toHaveLength(6);
    const future = await api(server, "GET", `/api/v1/runs?filter[createdAt][from]=${Date.now() + 60_000}`);
    expect(future.body.data).toEqual([]);

    const bad = await api(server, "GET", "/api/v1/runs?filter[status]=NOPE");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/filter\[status\]/);
    expect(bad.body.details).toBeInstanceOf(Array);
    expect((await api(server, "GET", "/api/v1/runs?page[after]=garbage")).status).toBe(400);

    // The project listing spans environments; filter[env] narrows it.
    const ref = (await api(server, "GET", `/api/v3/runs/${ids[0]}`)) && (await projectRef());
    await trigger("listed", {}, server.prodSecretKey);
    const all = await api(server, "GET", `/api/v1/projects/${ref}/runs?filter[taskIdentifier]=listed`);
    expect(new Set(all.body.data.map((r: { env: { name: string } }) => r.env.name))).toEqual(new Set(["dev", "prod"]));
    const prodOnly = await api(server, "GET", `/api/v1/projects/${ref}/runs?filter[taskIdentifier]=listed&filter[env]=prod`);
    expect(prodOnly.body.data).toHaveLength(1);
    expect((await api(server, "GET", "/api/v1/projects/proj_nottheproject/runs")).status).toBe(404);

    // Tokens: read:runs lists everything, read:tasks:<id> needs a matching filter.
    const tasks = await signPublicToken({ secretKey: server.devSecretKey, environmentId: envId, scopes: ["read:tasks:listed"] });
    expect((await api(server, "GET", "/api/v1/runs?filter[taskIdentifier]=listed", { key: tasks })).status).toBe(200);
    expect((await api(server, "GET", "/api/v1/runs", { key: tasks })).status).toBe(403);
  });

  async function projectRef(): Promise<string> {
    const { stdout } = server.output();
    return /\((proj_[a-z]+)\)/.exec(stdout)![1]!;
  }

  test("cancel, replay, reschedule", async () => {
    const delayed = await trigger("mutable", { delay: "1h", tags: ["t1"], metadata: { seed: true } });
    const bad = await api(server, "POST", `/api/v1/runs/${delayed}/reschedule`, { body: { delay: "whenever" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/Invalid delay/);
    const moved = await api(server, "POST", `/api/v1/runs/${delayed}/reschedule`, { body: { delay: "2h" } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id: delayed, status: "DELAYED" });
    expect(new Date(moved.body.delayedUntil).getTime()).toBeGreaterThan(Date.now() + 6_000_000);

    const replay = await api(server, "POST", `/api/v1/runs/${delayed}/replay`);
    expect(replay.status).toBe(200);
    const replayed = (await runRow(server, replay.body.id))!;
    expect(replayed).toMatchObject({ taskIdentifier: "mutable", runTags: ["t1"], replayedFromTaskRunFriendlyId: delayed, payload: '{"task":"mutable"}' });
    const overridden = await api(server, "POST", `/api/v1/runs/${delayed}/replay`, {
      body: { payload: { other: 1 }, tags: ["t2"], machine: "micro", metadata: { x: 1 } },
    });
    expect((await runRow(server, overridden.body.id))!).toMatchObject({ payload: '{"other":1}', runTags: ["t2"], machinePreset: "micro", metadata: '{"x":1}' });

    const cancel = await api(server, "POST", `/api/v2/runs/${delayed}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toEqual({ id: delayed });
    const cancelled = await api(server, "GET", `/api/v3/runs/${delayed}`);
    expect(cancelled.body).toMatchObject({ status: "CANCELED", isCancelled: true, isCompleted: true, isFailed: false });
    expect((await api(server, "POST", `/api/v2/runs/${delayed}/cancel`)).status).toBe(200);

    const notDelayed = await api(server, "POST", `/api/v1/runs/${delayed}/reschedule`, { body: { delay: "1m" } });
    expect(notDelayed.status).toBe(422);
    expect(notDelayed.body.error).toBe("Cannot reschedule a run that is not delayed");

    // Public tokens may cancel with write:runs:<id>; secret-key-only routes refuse them.
    const queued = await trigger("mutable");
    const writer = await signPublicToken({ secretKey: server.devSecretKey, environmentId: envId, scopes: [`write:runs:${queued}`] });
    expect((await api(server, "POST", `/api/v2/runs/${delayed}/cancel`, { key: writer })).status).toBe(403);
    expect((await api(server, "POST", `/api/v2/runs/${queued}/cancel`, { key: writer })).status).toBe(200);
    expect((await api(server, "POST", `/api/v1/runs/${queued}/replay`, { key: writer })).status).toBe(401);
  });

  test("tags: added up to 10, then 422 with nothing added", async () => {
    const id = await trigger("tagged", { tags: ["a"] });
    const added = await api(server, "POST", `/api/v1/runs/${id}/tags`, { body: { tags: ["b", "a", "c"] } });
    expect(added.status).toBe(200);
    expect(added.body.message).toEqual(expect.any(String));
    expect((await runRow(server, id))!.runTags).toEqual(["a", "b", "c"]);
    const single = await api(server, "POST", `/api/v1/runs/${id}/tags`, { body: { tags: "d" } });
    expect(single.status).toBe(200);
    const tooMany = await api(server, "POST", `/api/v1/runs/${id}/tags`, { body: { tags: ["e", "f", "g", "h", "i", "j", "k"] } });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.error).toMatch(/10 tags.*11/);
    expect((await runRow(server, id))!.runTags).toEqual(["a", "b", "c", "d"]);
    expect((await api(server, "POST", `/api/v1/runs/${id}/tags`, { body: {} })).status).toBe(400);
  });

  test("metadata: operations, parent and root operations, replace, and refusals", async () => {
    const root = await trigger("meta-root", { metadata: { count: 1 } });
    const parent = await trigger("meta-parent", { parentRunId: root });
    const child = await trigger("meta-child", { parentRunId: parent, metadata: { list: [1] } });

    const put = await api(server, "PUT", `/api/v1/runs/${child}/metadata`, {
      body: {
        operations: [
          { type: "set", key: "status", value: "working" },
          { type: "append", key: "list", value: 2 },
          { type: "increment", key: "n", value: 5 },
          { type: "increment", key: "n", value: -2 },
          { type: "set", key: "$.nested", value: { a: 1 } },
          { type: "set", key: "$.nested.b", value: 2 },
          { type: "remove", key: "list", value: 1 },
        ],
        parentOperations: [{ type: "increment", key: "children", value: 1 }],
        rootOperations: [{ type: "append", key: "log", value: "child ran" }],
      },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ metadata: { status: "working", list: [2], n: 3, nested: { a: 1, b: 2 } } });
    expect((await api(server, "GET", `/api/v1/runs/${parent}/metadata`)).body).toEqual({ metadata: { children: 1 } });
    expect((await api(server, "GET", `/api/v1/runs/${root}/metadata`)).body).toEqual({ metadata: { count: 1, log: ["child ran"] } });
    // A root run's rootOperations apply to itself.
    await api(server, "PUT", `/api/v1/runs/${root}/metadata`, { body: { rootOperations: [{ type: "increment", key: "count", value: 1 }] } });
    expect((await api(server, "GET", `/api/v3/runs/${root}`)).body.metadata).toEqual({ count: 2, log: ["child ran"] });

    const replaced = await api(server, "PUT", `/api/v1/runs/${child}/metadata`, { body: { metadata: { fresh: true } } });
    expect(replaced.body).toEqual({ metadata: { fresh: true } });
    // Concurrent increments are not lost.
    await Promise.all(
      Array.from({ length: 10 }, () => api(server, "PUT", `/api/v1/runs/${child}/metadata`, { body: { operations: [{ type: "increment", key: "hits", value: 1 }] } }))
    );
    expect((await api(server, "GET", `/api/v1/runs/${child}/metadata`)).body.metadata).toEqual({ fresh: true, hits: 10 });

    const unsafe = await api(server, "PUT", `/api/v1/runs/${child}/metadata`, { body: { operations: [{ type: "set", key: "__proto__", value: 1 }] } });
    expect(unsafe.status).toBe(400);
    expect(unsafe.body.error).toMatch(/operations\.0\.key/);
    const badOp = await api(server, "PUT", `/api/v1/runs/${child}/metadata`, { body: { operations: [{ type: "explode", key: "x" }] } });
    expect(badOp.status).toBe(400);
    const huge = await api(server, "PUT", `/api/v1/runs/${child}/metadata`, { body: { metadata: { big: "x".repeat(300_000) } } });
    expect(huge.status).toBe(413);
    expect((await api(server, "GET", `/api/v1/runs/${child}/metadata`)).body.metadata).toEqual({ fresh: true, hits: 10 });
    expect((await api(server, "PUT", "/api/v1/runs/run_doesnotexist00000000000/metadata", { body: { metadata: {} } })).status).toBe(404);
  });

  test("idempotency key reset: the next trigger makes a new run; unknown keys 404", async () => {
    const key = "b".repeat(64);
    const first = await trigger("resettable", { idempotencyKey: key });
    expect(await trigger("resettable", { idempotencyKey: key })).toBe(first);
    const reset = await api(server, "POST", `/api/v1/idempotencyKeys/${key}/reset`, { body: { taskIdentifier: "resettable" } });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ id: key });
    expect(await trigger("resettable", { idempotencyKey: key })).not.toBe(first);
    const missing = await api(server, "POST", `/api/v1/idempotencyKeys/${"c".repeat(64)}/reset`, { body: { taskIdentifier: "resettable" } });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/No runs found with idempotency key/);
    const before = await countRows(server, "TaskRun");
    expect((await api(server, "POST", `/api/v1/idempotencyKeys/${key}/reset`, { body: {} })).status).toBe(400);
    expect(await countRows(server, "TaskRun")).toBe(before);
  });
});
