import type { RunQueue } from "@internal/run-engine";
import * as worker from "@runplane/worker";
import { AuthenticationError, NotFoundError, concurrencyLimits, configure, queues, runs, tasks } from "@trigger.dev/sdk";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { api, MODES } from "../api/support/api";
import { expectNoHeldSlots, openServerRunQueue } from "../support/noLeaks";
import { startTestServer, type TestServer } from "../support/testServer";

/**
 * `queues.*` and `concurrencyLimits.*` of the published @trigger.dev/sdk 4.8.3 against a real server and
 * worker, in single and split mode: list, retrieve by id / task / name, pause and resume (a paused queue
 * accepts triggers and dequeues nothing), limit override and reset. Total and per-key overrides:
 * concurrencyLimitOverrides.test.ts.
 */
describe.each(MODES)("queues and concurrency limits through the published SDK ($mode)", ({ split }) => {
  let server: TestServer;
  let running: worker.RunningWorker;
  let runQueue: RunQueue;
  let devEnvId: string;
  const workerLogs: string[] = [];

  const limited = worker.task({ id: "q-limited", queue: { concurrencyLimit: 3 }, run: async (payload: { i: number }) => payload.i });
  const custom = worker.task({ id: "q-custom", queue: { name: "sdk-custom", concurrencyLimit: 2 }, run: async () => "custom" });
  const other = worker.task({ id: "q-other", run: async () => "other" });

  beforeAll(async () => {
    server = await startTestServer({ split });
    running = await worker.startWorker({
      apiUrl: server.baseUrl,
      secretKey: server.devSecretKey,
      tasks: [limited, custom, other],
      concurrency: 5,
      heartbeatIntervalMs: 500,
      pollWaitMs: 2_000,
      logLevel: "warn",
      logSink: (line) => void workerLogs.push(line),
    });
    runQueue = openServerRunQueue(server);
    configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey });
    devEnvId = await devEnvironmentId();
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await expectNoHeldSlots(runQueue, [devEnvId]).finally(() => runQueue?.close());
    await server?.stop();
    if (process.env.SHOW_WORKER_LOGS) console.log(workerLogs.join("\n"));
  }, 60_000);
  beforeEach(() => {
    configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey });
  });

  /** The dev environment's id (whose run-queue keys the assertions read). */
  async function devEnvironmentId(): Promise<string> {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT id FROM "RuntimeEnvironment" WHERE "apiKey" = $1`, [server.devSecretKey]);
      return rows[0].id as string;
    } finally {
      await client.end();
    }
  }

  const poll = (id: string) => runs.poll(id, { pollIntervalMs: 200 });

  test("list and retrieve by id, task and custom name", async () => {
    const page = await queues.list();
    const names = page.data.map((q) => `${q.type}:${q.name}`).sort();
    expect(names).toEqual(["custom:sdk-custom", "task:q-limited", "task:q-other"]);
    const byTask = await queues.retrieve({ type: "task", name: "q-limited" });
    expect(byTask).toMatchObject({ name: "q-limited", type: "task", paused: false, concurrencyLimit: 3, running: 0, queued: 0 });
    expect(byTask.id).toMatch(/^queue_/);
    expect((await queues.retrieve(byTask.id)).name).toBe("q-limited");
    expect(await queues.retrieve({ type: "custom", name: "sdk-custom" })).toMatchObject({ type: "custom", concurrencyLimit: 2 });
    await expect(queues.retrieve({ type: "task", name: "nope" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(queues.retrieve("queue_doesnotexist")).rejects.toBeInstanceOf(NotFoundError);
  });

  test("a paused queue accepts triggers and dequeues nothing; resume drains it", async () => {
    const paused = await queues.pause({ type: "task", name: "q-limited" });
    expect(paused.paused).toBe(true);
    const handles = await Promise.all([1, 2, 3].map((i) => tasks.trigger("q-limited", { i })));
    // The worker keeps dequeuing other queues meanwhile.
    expect((await poll((await tasks.trigger("q-other", {})).id)).status).toBe("COMPLETED");
    for (const h of handles) expect((await runs.retrieve(h.id)).status).toBe("QUEUED");
    expect(await queues.retrieve({ type: "task", name: "q-limited" })).toMatchObject({ paused: true, queued: 3, running: 0 });

    const resumed = await queues.resume({ type: "task", name: "q-limited" });
    expect(resumed.paused).toBe(false);
    for (const h of handles) expect((await poll(h.id)).status).toBe("COMPLETED");
    expect(await queues.retrieve({ type: "task", name: "q-limited" })).toMatchObject({ queued: 0 });
  });

  test("override and reset a queue's limit; the run queue enforces it", async () => {
    const overridden = await queues.overrideConcurrencyLimit({ type: "custom", name: "sdk-custom" }, 7);
    expect(overridden.concurrencyLimit).toBe(7);
    expect(overridden.concurrency).toMatchObject({ current: 7, base: 2, override: 7, overriddenBy: null });
    expect(overridden.concurrency?.overriddenAt).toBeInstanceOf(Date);
    expect(await runQueue.queueSettings(devEnvId, "sdk-custom")).toMatchObject({ limit: 7 });

    const reset = await queues.resetConcurrencyLimit({ type: "custom", name: "sdk-custom" });
    expect(reset.concurrencyLimit).toBe(2);
    expect(reset.concurrency).toMatchObject({ current: 2, base: 2, override: null, overriddenAt: null });
    expect(await runQueue.queueSettings(devEnvId, "sdk-custom")).toMatchObject({ limit: 2 });
  });

  test("concurrencyLimits: list, retrieve (also per key), override, reset, pause and resume", async () => {
    const list = await concurrencyLimits.list();
    expect(list.data.map((l) => l.name).sort()).toEqual(["sdk-custom", "task/q-limited", "task/q-other"]);
    const limit = await concurrencyLimits.retrieve("task/q-limited");
    expect(limit).toMatchObject({ name: "task/q-limited", paused: false, perKey: { current: 3, base: 3, override: null } });
    expect(limit.id).toMatch(/^climit_/);

    const overridden = await concurrencyLimits.override("task/q-limited", { perKey: 1 });
    expect(overridden.perKey).toMatchObject({ current: 1, base: 3, override: 1 });
    expect(await runQueue.queueSettings(devEnvId, "task/q-limited")).toMatchObject({ limit: 1 });
    const keyView = await concurrencyLimits.retrieve("task/q-limited", { concurrencyKey: "tenant-a" });
    expect(keyView).toMatchObject({ name: "task/q-limited", concurrencyKey: "tenant-a", running: 0, perKey: { current: 1 } });

    const reset = await concurrencyLimits.reset("task/q-limited");
    expect(reset.perKey).toMatchObject({ current: 3, base: 3, override: null, overriddenAt: null });

    expect((await concurrencyLimits.pause("task/q-limited")).paused).toBe(true);
    expect(await runQueue.queueSettings(devEnvId, "task/q-limited")).toMatchObject({ paused: true });
    expect((await queues.retrieve({ type: "task", name: "q-limited" })).paused).toBe(true);
    expect((await concurrencyLimits.resume("task/q-limited")).paused).toBe(false);
    expect(await runQueue.queueSettings(devEnvId, "task/q-limited")).toMatchObject({ paused: false });
    await expect(concurrencyLimits.retrieve("task/nope")).rejects.toBeInstanceOf(NotFoundError);
  });

  test("refusals: no key, another environment's key, bad bodies; nothing changes", async () => {
    // A custom-type lookup of the full name, encoded as the SDK does (a `/` as %2F, then the whole).
    const path = `/api/v1/queues/${encodeURIComponent("task/q-limited".replace(/\//g, "%2F"))}`;
    expect((await api(server, "GET", "/api/v1/queues", { key: null })).status).toBe(401);
    configure({ baseURL: server.baseUrl, accessToken: "tr_dev_notakey123456" });
    await expect(queues.list()).rejects.toBeInstanceOf(AuthenticationError);
    configure({ baseURL: server.baseUrl, accessToken: server.prodSecretKey });
    await expect(queues.retrieve({ type: "task", name: "q-limited" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(queues.pause({ type: "task", name: "q-limited" })).rejects.toBeInstanceOf(NotFoundError);
    expect((await queues.list()).data).toEqual([]);

    const override = await api(server, "POST", `/api/v1/queues/q-limited/concurrency/override`, { body: { type: "task", concurrencyLimit: -1 } });
    expect(override.status).toBe(400);
    expect(override.body.error).toContain("concurrencyLimit");
    const pause = await api(server, "POST", `/api/v1/queues/q-limited/pause`, { body: { type: "task", action: "stop" } });
    expect(pause.status).toBe(400);
    expect(pause.body.error).toContain("action");
    const badType = await api(server, "GET", `/api/v1/queues/q-limited?type=weird`);
    expect(badType.status).toBe(400);
    expect(badType.body.error).toEqual(expect.any(String));
    const retrieved = await api(server, "GET", `${path}?type=custom`);
    expect(retrieved.status).toBe(200);
    expect(retrieved.body).toMatchObject({ name: "q-limited", paused: false, concurrencyLimit: 3 });
  });
});
