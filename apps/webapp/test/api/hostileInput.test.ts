import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { api, countRows, MODES } from "./support/api";

/**
 * Hostile input the server once answered with a 500: NUL characters (which Postgres cannot store) in
 * path parameters, query values and JSON bodies, and paths no route serves. Every answer is a 4xx JSON
 * error, nothing is written, and the server stays healthy.
 */
describe.each(MODES)("hostile input ($mode)", ({ split }) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ split });
  }, 120_000);
  afterAll(async () => void (await server?.stop()), 60_000);

  const NUL = "\u0000";
  const cases: Array<{ name: string; method: string; path: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }> = [
    { name: "task id", method: "POST", path: "/api/v1/tasks/%00x/trigger", body: { payload: {} } },
    { name: "run id (retrieve)", method: "GET", path: "/api/v3/runs/run_%00abc" },
    { name: "run id (cancel)", method: "POST", path: "/api/v2/runs/run_%00abc/cancel" },
    { name: "token id", method: "GET", path: "/api/v1/waitpoints/tokens/waitpoint_%00x" },
    { name: "token id (complete)", method: "POST", path: "/api/v1/waitpoints/tokens/waitpoint_%00x/complete", body: { data: 1 } },
    { name: "list filter", method: "GET", path: "/api/v1/runs?filter%5Btag%5D=a%00b" },
    { name: "idempotency key", method: "POST", path: "/api/v1/tasks/hello/trigger", body: { payload: {}, options: { idempotencyKey: `k${NUL}` } } },
    { name: "tag", method: "POST", path: "/api/v1/tasks/hello/trigger", body: { payload: {}, options: { tags: [`t${NUL}`] } } },
    { name: "string in payload", method: "POST", path: "/api/v1/tasks/hello/trigger", body: { payload: { note: `a${NUL}b` } } },
    { name: "key in payload", method: "POST", path: "/api/v1/tasks/hello/trigger", body: { payload: { [`k${NUL}`]: 1 } } },
    { name: "metadata", method: "POST", path: "/api/v1/tasks/hello/trigger", body: { payload: {}, options: { metadata: { m: NUL } } } },
    { name: "idempotency key (reset path)", method: "POST", path: "/api/v1/idempotencyKeys/%00/reset", body: { taskIdentifier: "hello" } },
    { name: "realtime run id", method: "GET", path: "/realtime/v1/runs/run_%00x" },
  ];

  test.each(cases)("NUL in the $name → 400 JSON, nothing written", async ({ method, path, body }) => {
    const before = await countRows(server, "TaskRun");
    const res = await api(server, method, path, { body });
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ error: expect.stringMatching(/NUL/) });
    expect(await countRows(server, "TaskRun")).toBe(before);
  });

  test("a payload the SDK serialized keeps its escaped NUL: stored as text and read back intact", async () => {
    const payload = JSON.stringify({ a: `x${NUL}` });
    const res = await api(server, "POST", "/api/v1/tasks/hello/trigger", { body: { payload, options: { payloadType: "application/json" } } });
    expect(res.status, res.text).toBe(200);
    const run = await api(server, "GET", `/api/v3/runs/${res.body.id}`);
    expect(run.body.payload).toEqual({ a: `x${NUL}` });
  });

  test.each([
    ["GET", "/api/v1/nothing-here"],
    ["POST", "/api/v9/tasks/x/trigger"],
    ["GET", "/api/v3/runs/run_abc/unknown"],
    ["GET", "/engine/v1/nothing"],
    ["DELETE", "/realtime/v1/nothing/here"],
  ])("%s %s (no such route) → JSON 404", async (method, path) => {
    const res = await api(server, method, path);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(res.body).toEqual({ error: expect.stringContaining(path), code: "not_found" });
  });

  test("the server stays healthy afterwards", async () => {
    const res = await api(server, "GET", "/healthcheck", { key: null });
    expect(res.status).toBe(200);
  });
});
