import * as worker from "@runplane/worker";
import { ApiError, configure, envvars, runs, tasks } from "@trigger.dev/sdk";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { api, MODES } from "../api/support/api";
import { startTestServer, type TestServer } from "../support/testServer";

/** The published SDK's `envvars.*` against a real server; a worker's run sees the variables in process.env. */
describe.each(MODES)("environment variables ($mode)", ({ split }) => {
  let server: TestServer;
  let projectRef: string;
  let running: worker.RunningWorker | undefined;

  beforeAll(async () => {
    server = await startTestServer({ split });
    projectRef = /Project:\s+\S+ \((proj_[a-z0-9]+)\)/.exec(server.output().stdout)![1]!;
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await server?.stop();
  }, 60_000);
  beforeEach(() => configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey }));

  test("create, list, retrieve, update, import and delete; values are encrypted at rest", async () => {
    expect(await envvars.create(projectRef, "dev", { name: "GREETING", value: "hello" })).toEqual({ success: true });
    // isSecret is in the server's schema but not in the SDK's parameter type; the SDK sends the body as given
    const secret = { name: "API_TOKEN", value: "s3cr3t-value", isSecret: true };
    await envvars.create(projectRef, "dev", secret);
    await expect(envvars.create(projectRef, "dev", { name: "GREETING", value: "again" })).rejects.toMatchObject({ status: 409 });

    expect(await envvars.list(projectRef, "dev")).toEqual([
      { name: "API_TOKEN", value: "<redacted>", isSecret: true },
      { name: "GREETING", value: "hello", isSecret: false },
    ]);
    expect(await envvars.retrieve(projectRef, "dev", "GREETING")).toEqual({ name: "GREETING", value: "hello", isSecret: false });

    // envvars.update of SDK 4.8.3 throws "name is not defined" outside a task (a bug in the published
    // build: it reads an undeclared variable), so the same request the SDK's ApiClient sends is made here.
    const updated = await api(server, "PUT", `/api/v1/projects/${projectRef}/envvars/dev/GREETING`, { body: { value: "bonjour" } });
    expect(updated.body).toEqual({ success: true });
    expect((await api(server, "PUT", `/api/v1/projects/${projectRef}/envvars/dev/MISSING`, { body: { value: "x" } })).status).toBe(404);
    expect((await envvars.retrieve(projectRef, "dev", "GREETING")).value).toBe("bonjour");

    await envvars.upload(projectRef, "dev", { variables: { GREETING: "kept", REGION: "eu", COLOR: "blue" } });
    expect((await envvars.retrieve(projectRef, "dev", "GREETING")).value).toBe("bonjour"); // no override
    await envvars.upload(projectRef, "dev", { variables: { GREETING: "overridden" }, override: true });
    expect((await envvars.list(projectRef, "dev")).map((v) => `${v.name}=${v.value}`)).toEqual([
      "API_TOKEN=<redacted>",
      "COLOR=blue",
      "GREETING=overridden",
      "REGION=eu",
    ]);

    await envvars.del(projectRef, "dev", "COLOR");
    await expect(envvars.retrieve(projectRef, "dev", "COLOR")).rejects.toMatchObject({ status: 404 });
    await expect(envvars.del(projectRef, "dev", "COLOR")).rejects.toMatchObject({ status: 404 });

    // at rest: ciphertext only
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT "name", "encryptedValue" FROM "EnvironmentVariable"`);
      expect(rows.length).toBe(3);
      for (const row of rows) {
        expect(row.encryptedValue).toMatch(/^v1:/);
        expect(row.encryptedValue).not.toContain("s3cr3t");
        expect(row.encryptedValue).not.toContain("overridden");
      }
    } finally {
      await client.end();
    }
  });

  test("the trigger.dev CLI's dev mode loads the environment's variables (GET …/envvars, its schema)", async () => {
    const { GetEnvironmentVariablesResponseBody } = await import("@trigger.dev/core/v3");
    await envvars.create(projectRef, "dev", { name: "FROM_DASHBOARD", value: "dev-value" });
    const res = await api(server, "GET", `/api/v1/projects/${projectRef}/envvars`);
    expect(res.status).toBe(200);
    expect(GetEnvironmentVariablesResponseBody.parse(res.body).variables).toMatchObject({ FROM_DASHBOARD: "dev-value" });
    // the production key sees its own environment's variables only; another project's ref is a 404
    const prod = await api(server, "GET", `/api/v1/projects/${projectRef}/envvars`, { key: server.prodSecretKey });
    expect(prod.body.variables).not.toHaveProperty("FROM_DASHBOARD");
    expect((await api(server, "GET", `/api/v1/projects/proj_someoneelse/envvars`)).status).toBe(404);
    expect((await api(server, "GET", `/api/v1/projects/${projectRef}/envvars`, { key: null })).status).toBe(401);
    await envvars.del(projectRef, "dev", "FROM_DASHBOARD");
  });

  test("bad input and other environments are refused and change nothing", async () => {
    const bad = await api(server, "POST", `/api/v1/projects/${projectRef}/envvars/dev`, { body: { name: "1BAD", value: "x" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/Invalid variable name/);
    expect((await api(server, "POST", `/api/v1/projects/${projectRef}/envvars/dev`, { body: { name: "X" } })).status).toBe(400);
    expect((await api(server, "POST", `/api/v1/projects/${projectRef}/envvars/dev/import`, { body: { variables: { OK: "1", "no-dash": "2" } } })).status).toBe(400);
    await expect(envvars.retrieve(projectRef, "dev", "OK")).rejects.toBeInstanceOf(ApiError);

    // the dev key cannot read or write prod's variables, nor another project's
    const prod = await api(server, "GET", `/api/v1/projects/${projectRef}/envvars/prod`);
    expect(prod.status).toBe(403);
    expect(prod.body.error).toMatch(/dev/);
    expect((await api(server, "POST", `/api/v1/projects/${projectRef}/envvars/prod`, { body: { name: "X", value: "1" } })).status).toBe(403);
    expect((await api(server, "GET", `/api/v1/projects/proj_doesnotexist/envvars/dev`)).status).toBe(404);
    expect((await api(server, "GET", `/api/v1/projects/${projectRef}/envvars/dev`, { key: null })).status).toBe(401);
    // and prod's key sees only prod's (empty) list
    expect((await api(server, "GET", `/api/v1/projects/${projectRef}/envvars/prod`, { key: server.prodSecretKey })).body).toEqual([]);
  });

  test("a run sees its environment's variables in process.env", async () => {
    const variable = { name: "RUN_VISIBLE", value: "from-runplane", isSecret: true };
    await envvars.create(projectRef, "dev", variable);
    running = await worker.startWorker({
      apiUrl: server.baseUrl,
      secretKey: server.devSecretKey,
      tasks: [worker.task({ id: "env-reader", run: async () => ({ visible: process.env.RUN_VISIBLE ?? null }) })],
      concurrency: 1,
      pollWaitMs: 1_000,
      logLevel: "error",
    });
    const done = await runs.poll((await tasks.trigger("env-reader", {})).id, { pollIntervalMs: 200 });
    expect(done.output).toEqual({ visible: "from-runplane" });
  }, 60_000);
});

describe("ENCRYPTION_KEY", () => {
  test("missing in production: boot is refused with a message naming it", async () => {
    const error = await startTestServer({ env: { ENCRYPTION_KEY: "" } }).then(
      async (s) => {
        await s.stop();
        return null;
      },
      (e: Error) => e
    );
    expect(error?.message).toMatch(/refused to start: .*ENCRYPTION_KEY \(required when NODE_ENV=production/);
  }, 60_000);
});
